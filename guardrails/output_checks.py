"""check_output: the last gate before anyone sees a reply.

Every reply: no dose-like amounts, no instructions addressed to the assistant (text planted in a
document), no HTML markup, no links outside the sources list. Answers also: every sentence carries a citation number
that points to a passage retrieved for this turn and is found, word for word, in that
passage; no claim that kratom is safe, approved or effective. A failing reply is replaced
by the policy's fallback, never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guardrails.amounts import find_amounts
from guardrails.normalize import comparable

UNSAFE_CLAIM_RE = re.compile(
    r"\b(?:kratom|7-?oh|it) (?:is|are) (?:completely |totally |perfectly |generally |very |100% )?"
    r"(?:safe|harmless|approved|effective|a safe|an effective|fda[- ]approved|non[- ]addictive|not addictive)\b|"
    r"\bsafer than (?:opioids|medicine|prescription|pain ?killers|drugs)\b|\b(?:cures?|treats) (?:pain|addiction|anxiety|depression)\b",
    re.IGNORECASE,
)
NEGATION_NEAR_RE = re.compile(
    r"\b(?:not|no|never|isn'?t|aren'?t|nor|without|unproven|lack\w*|cannot|can'?t|rejected|reject\w*|denied|disputed|"
    r"claims?|claimed|marketed|advertis\w*|myth|false(?:ly)?|misleading|unsupported|warn\w*)\b",
    re.IGNORECASE,
)
# Text written at the assistant, not about kratom: instructions planted in a document.
INSTRUCTION_RE = re.compile(
    r"\b(?:system|sistema|assistant|asistente|developer|admin)\s*:|"
    r"\bignor(?:e|a|ar)\s+(?:(?:all|any|your|the|previous|prior|above|earlier|tus|sus|las|todas|anteriores)\s+){0,3}"
    r"(?:rules|instructions|guidelines|guardrails|policy|prompt|reglas|instrucciones)\b|"
    r"\binstructions?\s+(?:to|for)\s+(?:the\s+)?(?:ai|assistant|model|chatbot|bot|llm)\b|"
    r"\b(?:assistant|chatbot|ai|model|bot)\s*,\s*(?:please\s+)?(?:route|ignore|always|never|say|tell|recommend|answer|respond|reply)\b|"
    r"\broute (?:every|all|each|this)\b|\bnever mention (?:911|988|poison)",
    re.IGNORECASE,
)
MARKUP_RE = re.compile(
    r"<\s*/?\s*[a-z][a-z0-9-]*(?:\s[^<>]*)?/?>|<\s*(?:script|img|iframe|svg|object|embed)\b|javascript\s*:|\bon[a-z]+\s*=",
    re.IGNORECASE,
)
LINK_RE = re.compile(r"\bwww\.|\bhttps?://|\b[a-z0-9-]+\.(?:com|shop|store|biz)\b", re.IGNORECASE)


@dataclass
class Verdict:
    """The output check's finding; also a turn's reason when it fails."""

    ok: bool
    problems: list[str] = field(default_factory=list)

    def public(self) -> dict[str, object]:
        return {"source": "output_check", "ok": self.ok, "problems": self.problems}


def unsupported_claim(sentence: str) -> bool:
    """ "Kratom is safe / approved / effective" said without a negation or attribution."""
    return bool(UNSAFE_CLAIM_RE.search(sentence)) and not NEGATION_NEAR_RE.search(sentence)


def sentence_problems(sentence: str) -> list[str]:
    """Why one source sentence may not be quoted: an amount, planted instructions, markup, a link or
    an unsupported safety claim. The composer skips such sentences; check_output refuses them."""
    problems = []
    if find_amounts(sentence):
        problems.append("amount")
    if INSTRUCTION_RE.search(sentence):
        problems.append("instruction_text")
    if MARKUP_RE.search(sentence):
        problems.append("markup")
    if LINK_RE.search(sentence):
        problems.append("link")
    if unsupported_claim(sentence):
        problems.append("unsupported_safety_claim")
    return problems


def check_output(text: str, sources: str = "") -> Verdict:
    """Any reply's text: no amounts or planted instructions (its `sources` list included), no
    markup and no links outside that list (which holds the vetted URLs)."""
    problems = []
    amounts = find_amounts(text + "\n" + sources)
    if amounts:
        problems.append(f"amount:{len(amounts)}")
    if INSTRUCTION_RE.search(text) or INSTRUCTION_RE.search(sources):
        problems.append("instruction_text")
    if MARKUP_RE.search(text):
        problems.append("markup")
    if LINK_RE.search(text):
        problems.append("link")
    return Verdict(not problems, sorted(set(problems)))


def check_grounding(cited: list[tuple[str, int]], passages: dict[int, str]) -> Verdict:
    """An answer's cited sentences (text, citation number): each found word for word in a passage
    retrieved for this turn under that number, and none claiming kratom is safe or approved.
    `passages` maps citation number -> the passage text."""
    problems = [] if cited else ["no_cited_sentence"]
    for text, n in cited:
        sentence = comparable(text.strip(" -"))
        passage = passages.get(n)
        if passage is None:
            problems.append(f"citation_not_retrieved:{n}")
        elif sentence not in comparable(passage):
            problems.append(f"sentence_not_in_passage:{n}")
        if unsupported_claim(sentence):
            problems.append("unsupported_safety_claim")
    return Verdict(not problems, sorted(set(problems)))
