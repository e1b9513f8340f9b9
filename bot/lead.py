"""Which sentence leads an answer: a section's plain answer to its own question, matched to what was asked.

The composer's bottom line is one sentence. The corpus writes each question-style section
("Can you get addicted to kratom?") to open with its answer, so the best lead is usually the opener
of the section whose heading asks what the person asked. This module scores candidates so that:
- a section opener is matched by its heading (what it answers), not only by its own words;
- in a follow-up, the heading may match the latest turn on its own ("which kids are more likely
  to try it?" after "how many teenagers use kratom?");
- a sentence that leans on another ("LiverTox also says...", "In every one of those cases...")
  or describes a study's method ("In a 2020 study, X bought 8 products and tested them") does
  not lead when a sentence that answers is there;
- the question's own rare words count ("guidelines", "aggressive"): a lead that names them beats
  one that only shares the topic.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np

from bot.retrieval import tokenize

# "X also says...", "The review adds that...": a continuation, not an answer ("also" within the first
# words; "the body also makes..." later in a sentence leans on nothing).
CONTINUATION_RE = re.compile(
    r"^(?:\S+\s+){0,5}?also\b|\badd(?:s|ed)\b(?= that\b|,)|\b(?:too|as well)\W*$|^in addition\b",
    re.IGNORECASE,
)
# A back-reference near the start ("In every one of those kratom cases"); "...most of those deaths" later
# in a sentence usually points back within it.
BACK_REFERENCE_RE = re.compile(
    r"^(?:\S+\s+){0,5}?(?:those|these|such)\s+(?:\w+\s+){0,2}?(?:cases|studies|study|people|patients|users|"
    r"results|findings|products|deaths|reports|infants|babies|men|women|respondents)\b|"
    r"^(?:\S+\s+){0,5}?this (?:conversion|finding|result|change)\b",
    re.IGNORECASE,
)
# How a study was done, not what it found ("In a 2020 study, Prozialeck and colleagues bought 8 kratom
# products ... and tested what was in them"; "The committee did a pre-review of kratom at its 44th meeting").
METHOD_RE = re.compile(
    r"^(?:in an? (?:\d{4} )?(?:study|review|survey|report|trial|analysis)\b[^.]{0,80}?,\s*[^.]{0,80}?"
    r"\b(?:bought|tested|recruited|enrolled|gave|asked|surveyed|searched|looked at|examined|reviewed)\b)|"
    r"\bdid an? (?:pre-)?review of\b|\bheld (?:on )?(?:january|february|march|april|may|june|july|august|"
    r"september|october|november|december)\b",
    re.IGNORECASE,
)
# A caveat that defers the answer ("more research is needed to understand...") answers nothing first.
DEFERRAL_RE = re.compile(
    r"\bmore research (?:is|was) needed\b|\bremains? (?:unclear|unknown) whether\b", re.IGNORECASE
)
# A yes/no question starts a clause with an auxiliary ("is it...", "can you...", "so it's safe, right?");
# a wh-question ("what happened...", "why would...", "how were...") is not answered by "Yes:" or "No:".
YES_NO_Q_RE = re.compile(
    r"(?:^|[.?!,;:]\s*|\b(?:and|but|so|or|like|ok|okay)\s+)(?:is|are|was|were|do|does|did|can|could|will|would|"
    r"should|has|have|had|isn'?t|aren'?t|doesn'?t|don'?t|didn'?t|won'?t|wasn'?t|can'?t|shouldn'?t)\b|"
    r"\bright\s*\?|\bor not\b|\btrue\b\s*\?",
    re.IGNORECASE,
)
WH_Q_RE = re.compile(r"\b(?:what|why|how|who|whom|when|where|which)\b", re.IGNORECASE)
LEAN_PENALTY = 0.12  # a continuation or back-reference: leads only when nothing else answers
METHOD_PENALTY = 0.25
WRONG_TYPE_PENALTY = 0.15
YES_NO_OPENER_RE = re.compile(r"^(?:yes|no)\b[^:]{0,40}[,:]", re.IGNORECASE)
RARE_WORD_WEIGHT = 0.15
# A dose-evidence question is led by a section opener only when it speaks of amounts, never by a "Yes".
DOSE_ANSWER_RE = re.compile(r"\b(?:doses?|dosing|dosage|amounts?|how much)\b", re.IGNORECASE)
YES_OPENER_RE = re.compile(r"^yes\b", re.IGNORECASE)


def asks_yes_no(question: str) -> bool:
    """A yes/no question, or one without a wh-word; False for "what happened...", "why would..."."""
    return bool(YES_NO_Q_RE.search(question.strip())) or not WH_Q_RE.search(question)


def lead_penalty(text: str, yes_no: bool = True) -> float:
    """How much a sentence's own form counts against it as the first thing a reader sees.
    `yes_no`: whether the question asks yes or no (else a "Yes:"/"No:" opener answers another question)."""
    penalty = 0.0
    if CONTINUATION_RE.search(text) or BACK_REFERENCE_RE.search(text):
        penalty += LEAN_PENALTY
    if METHOD_RE.search(text) or DEFERRAL_RE.search(text):
        penalty += METHOD_PENALTY
    if not yes_no and YES_NO_OPENER_RE.match(text):
        penalty += WRONG_TYPE_PENALTY
    return penalty


@lru_cache(maxsize=16384)
def _stems(text: str) -> frozenset[str]:
    """Retrieval's tokens cut to a crude stem ("aggressive" and "aggression" share "aggre"); memoised,
    since every turn scores the same corpus sentences and headings."""
    return frozenset(t[:5] for t in tokenize(text) if len(t) > 2)


def content_words(question: str) -> set[str]:
    """The question's content-word stems, less "kratom" (every passage names it)."""
    return set(_stems(question) - {"krato"})


def stem_weights(texts: list[str]) -> dict[str, float]:
    """Inverse document frequency of each stem over the corpus's sentences: "toddlers" and "treated"
    say more about what was asked than "question" or "kratom". Stems the corpus never uses get no
    entry (no sentence can name them, so they do not dilute the share)."""
    df: dict[str, int] = {}
    for text in texts:
        for stem in _stems(text):
            df[stem] = df.get(stem, 0) + 1
    n = len(texts) or 1
    return {stem: math.log((n + 1) / (count + 0.5)) for stem, count in df.items()}


def word_share(
    words: set[str], text: str, weights: dict[str, float] | None = None, heading: str = ""
) -> float:
    """The weighted share of the question's content-word stems that `text` names. A section opener
    passes its `heading` (what the opener answers): a word only the heading names counts half."""
    if weights is not None:
        words = {w for w in words if w in weights}
    if not words:
        return 0.0
    weight = (lambda w: weights.get(w, 0.0)) if weights is not None else (lambda w: 1.0)
    total = sum(weight(w) for w in words)
    if not total:
        return 0.0
    in_text = words & _stems(text)
    in_heading = (words & _stems(heading)) - in_text if heading else set()
    return (sum(weight(w) for w in in_text) + 0.5 * sum(weight(w) for w in in_heading)) / total


def heading_match(heading_vector: np.ndarray, asked: np.ndarray, last: np.ndarray | None) -> float:
    """How well a section heading matches the question: against what the turn asks (the folded
    follow-up query weighed toward the latest turn) or, in a follow-up, the latest turn alone."""
    score = float(heading_vector @ asked)
    if last is not None:
        score = max(score, float(heading_vector @ last))
    return score


# A question that asks for a line to call ("is there a hotline for people trying to quit?", "is there a
# number to call about kratom poisoning?") is answered by the service's own number, cited to the agency
# that runs it, even when retrieval ranked studies about poisoning or quitting above the agency's page.
NUMBER_Q_RE = re.compile(
    r"\b(?:hotlines?|helplines?|help ?lines?|phone (?:numbers?|lines?)|poison control|"
    r"(?:a|the|what'?s the|what is the) number (?:to|for|i can|we can|that|is)|number to (?:call|text)|"
    r"who (?:do|can|should) (?:i|we|you) call|"
    # "where can someone get help to stop?": the helpline is the answer
    r"where (?:can|do|should|could) (?:i|we|you|someone|somebody|people|a person|my \w+) (?:get|find) "
    r"(?:help|treatment|support))\b",
    re.IGNORECASE,
)
POISON_Q_RE = re.compile(r"\bpoison", re.IGNORECASE)
PHONE_RE = re.compile(r"\b1-800-\d{3}-\d{4}\b")
# The agency documents that give each service's number (corpus/documents/<id>.md).
SERVICE_DOCS = {"poison": "hrsa-poison-help", "helpline": "samhsa-national-helpline"}


def asked_service(question: str) -> str | None:
    """The agency document whose number answers a request for a line to call: Poison Help for a
    poisoning question, else SAMHSA's National Helpline; None when no line to call is asked for."""
    if not NUMBER_Q_RE.search(question):
        return None
    return SERVICE_DOCS["poison" if POISON_Q_RE.search(question) else "helpline"]


# "kratom withdrawal symptoms list", "what are the side effects?": a lead that names several answers
# ("muscle aches, trouble sleeping, a runny nose...") answers better than one that sums them up
# ("moderate on average and included stomach and bowel symptoms").
LIST_Q_RE = re.compile(
    r"\b(?:list|symptoms|signs|side[- ]effects|kinds of|types of|what are the)\b", re.IGNORECASE
)
ENUMERATION_RE = re.compile(
    r"\b(?:such as|includ(?:e|es|ed|ing)|like)\b[^.;:]*,|(?:[^,.]+,){2,}[^,.]*\b(?:and|or)\b"
)
LIST_LEAD = 0.05


def list_bonus(question: str, text: str) -> float:
    """A small lead for a sentence that enumerates, when the question asks for a list."""
    return LIST_LEAD if LIST_Q_RE.search(question) and ENUMERATION_RE.search(text) else 0.0


# What kind of answer a wh-question asks for: "how often did the babies need morphine?" is answered by a
# share ("more than half of the infants"), not by one baby's treatment; "when was that?" by a date; "why
# did Texas warn people?" by a reason. A lead of that kind gets a small lead over one that only shares
# the topic.
SHARE_Q_RE = re.compile(
    r"\bhow (?:often|common|frequent\w*|likely|widespread|many|much of)\b|"
    r"\bwhat (?:share|percent\w*|proportion|fraction|portion|number)\b|\bhow many\b",
    re.IGNORECASE,
)
SHARE_RE = re.compile(
    r"\d+(?:\.\d+)?\s*%|\bpercent\b|\b\d+ (?:of|in|out of) (?:the |those |these )?\d+\b|"
    r"\b(?:more|less|fewer) than (?:half|a third|a quarter|one in)\b|\b(?:about|nearly|almost|over|roughly) "
    r"(?:half|a third|a quarter|one in)\b|\bhalf of\b|\bmajority\b|\bone in \w+\b|\b\w+ in (?:four|five|ten)\b|"
    r"\b\d[\d,]*\s+(?:people|deaths|cases|calls|reports|adults|teens|teenagers|children|infants|babies|users)\b",
    re.IGNORECASE,
)
WHEN_Q_RE = re.compile(
    r"\bwhen (?:was|were|did|is|will|has|had)\b|\bwhat (?:year|date|month)\b|\bhow long ago\b", re.IGNORECASE
)
DATE_RE = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december)\b",
    re.IGNORECASE,
)
WHY_Q_RE = re.compile(r"\bwhy\b|\bwhat (?:made|led|caused)\b|\bfor what reason\b", re.IGNORECASE)
REASON_RE = re.compile(
    r"\bbecause\b|\bdue to\b|\bwhich led\b|\bled to\b|\bafter (?:\w+ ){0,4}(?:rose|found|reports?|calls|cases)\b|"
    r"\bin response to\b|\bthe reason\b|\bbased on\b|\bprompted\b",
    re.IGNORECASE,
)
ANSWER_TYPE_LEAD = 0.1


def answer_type_bonus(question: str, text: str) -> float:
    """A lead for a sentence that gives the kind of answer a wh-question asks for: a share or count
    ("how often", "how many", "what share"), a date ("when was that?") or a reason ("why")."""
    q = question or ""
    if SHARE_Q_RE.search(q) and SHARE_RE.search(text):
        return ANSWER_TYPE_LEAD
    if WHEN_Q_RE.search(q) and DATE_RE.search(text):
        return ANSWER_TYPE_LEAD
    if WHY_Q_RE.search(q) and REASON_RE.search(text):
        return ANSWER_TYPE_LEAD
    return 0.0
