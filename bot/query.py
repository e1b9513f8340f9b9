"""Fold a follow-up question into a standalone search query.

"and what about the liver?" after "is kratom legal?" searches for both turns' words. A last
turn that names no substance, or that leans on earlier context (pronouns, "what about",
"and ..."), is joined with the previous user turn.
"""

from __future__ import annotations

import re

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


def _subject(turns: list[str]) -> str:
    for turn in reversed(turns):
        m = SUBJECT_RE.search(turn)
        if m:
            return m.group(0)
    return ""


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
    if content and not re.search(r"\b(?:that|this|it|those|eso|esto)\b", last, re.IGNORECASE):
        subject = "" if names_subject else _subject(turns[:-1])
        return (
            f"{subject} {last}".strip()
        )  # "and what about the liver?" -> "kratom and what about the liver?"
    if not names_subject or leans_back:
        return f"{previous} {last}"
    return last
