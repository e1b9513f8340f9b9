"""Fold a follow-up question into a standalone search query.

"and what about the liver?" after "is kratom legal?" searches for both turns' words.
The rule: a short last turn, or one that leans on earlier context (pronouns, "what
about", "and ..."), is joined with the previous user turn.
"""

from __future__ import annotations

import re

from bot.types import Conversation

FOLLOW_UP_RE = re.compile(
    r"^\s*(and|also|but|so|what about|how about|what if|y|pero|entonces|qu[eé] tal|y (si|el|la|los|las))\b"
    r"|\b(it|its|it's|that|this|those|these|they|them|he|she|him|her|eso|esto|ese|esa|lo|la)\b",
    re.IGNORECASE,
)
SUBJECT_RE = re.compile(r"kr[a-z]*t[ou]m|kratum|krat\b|7[\s-]?oh|mitragyn|ketum|kakuam", re.IGNORECASE)
SHORT_WORDS = 6


def build_query(conversation: Conversation) -> str:
    turns = [t.strip() for t in conversation.user_turns if t.strip()]
    if not turns:
        return ""
    last = turns[-1]
    if len(turns) == 1:
        return last
    previous = turns[-2]
    follow_up = len(last.split()) <= SHORT_WORDS or bool(FOLLOW_UP_RE.search(last))
    if follow_up and not SUBJECT_RE.search(last):
        return f"{previous} {last}"
    if follow_up:
        return f"{last} ({previous})"
    return last
