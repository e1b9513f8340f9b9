"""Fold a follow-up question into a standalone search query.

"and what about the liver?" after "is kratom legal?" searches for both turns' words. A last
turn that names no substance, or that leans on earlier context (pronouns, "what about",
"and ..."), is joined with the previous user turn. A Spanish follow-up with no noun phrase of its
own ("¿y cómo se trata?") is joined with the previous turn too: Spanish drops the "it".
"""

from __future__ import annotations

import re

from guardrails.language import detect_lang

FOLLOW_UP_RE = re.compile(
    r"^\s*(and|also|but|so|what about|how about|what if|y|pero|entonces|qu[eé] tal|y (si|el|la|los|las))\b"
    r"|\b(it|its|it's|that|this|those|these|they|them|eso|esto|ese|esa)\b",
    re.IGNORECASE,
)
SUBJECT_RE = re.compile(
    r"kr[a-z]*t[ou]m|kratum|krat\b|7[\s-]?oh|mitragyn|ketum|kakuam|opms|maeng", re.IGNORECASE
)


VAGUE = frozenset(
    "a an and also but so what about how is it its it's that this those these they them true too same thing things "
    "stuff one ones for of the to do does did can could would will be there any more else then ok okay and y el la "
    "lo eso esto tambien que es son para con los las un una del al mas y".split()
)
WORD_RE = re.compile(r"[a-záéíóúñ0-9]+", re.IGNORECASE)
# Spanish leaves out the "it" English says: "¿y cómo se trata?", "¿y en Texas?", "¿y cuánto dura?" are
# about the previous question's topic. A Spanish follow-up names a topic of its own with a noun after
# an article ("¿y en el embarazo?", "¿y la DEA qué dice?").
ES_NOUN_PHRASE_RE = re.compile(
    r"\b(?:el|la|los|las|un|una|unos|unas|del|al)\s+([a-záéíóúñ0-9][\w-]*)", re.IGNORECASE
)


def _subject(turns: list[str]) -> str:
    for turn in reversed(turns):
        m = SUBJECT_RE.search(turn)
        if m:
            return m.group(0)
    return ""


# Noun phrases that name no topic: an amount or a time ("con un poquito", "una vez") and who is asked
# about ("un primo"): "¿y si lo encuentran con un poquito?" is still about the previous question's law.
ES_NO_TOPIC_NOUNS = frozenset(
    "poquito poquita poco poca montón monton par rato vez veces día dia rato amigo amiga primo prima "
    "tío tio tía tia hermano hermana conocido conocida compa vecino vecina".split()
)


def _spanish_without_topic(turn: str) -> bool:
    """A Spanish turn with no noun phrase of its own but the subject's: its topic is unsaid."""
    if detect_lang(turn) != "es":
        return False
    return not any(
        not SUBJECT_RE.search(m.group(1)) and m.group(1).lower() not in ES_NO_TOPIC_NOUNS
        for m in ES_NOUN_PHRASE_RE.finditer(turn)
    )


def build_query(user_turns: list[str]) -> str:
    """The conversation's user turns (oldest first) -> one standalone search query."""
    turns = [t.strip() for t in user_turns if t.strip()]
    if not turns:
        return ""
    last = turns[-1]
    if len(turns) == 1:
        return last
    previous = turns[-2]
    names_subject = bool(SUBJECT_RE.search(last))
    leans_back = bool(FOLLOW_UP_RE.search(last)) or len(last.split()) <= 6
    content = [w for w in WORD_RE.findall(last.lower()) if w not in VAGUE and not SUBJECT_RE.search(w)]
    if not leans_back and names_subject:
        return last
    if leans_back and _spanish_without_topic(last):
        return f"{previous} {last}"  # "¿y cómo se trata?" after "¿el kratom causa adicción?"
    if content and not re.search(r"\b(?:that|this|it|those|eso|esto)\b", last, re.IGNORECASE):
        subject = "" if names_subject else _subject(turns[:-1])
        return (
            f"{subject} {last}".strip()
        )  # "and what about the liver?" -> "kratom and what about the liver?"
    if not names_subject or leans_back:
        return f"{previous} {last}"
    return last
