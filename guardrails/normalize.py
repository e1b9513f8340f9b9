"""Normalise user text before any rule sees it.

NFKC (full-width, ligatures), zero-width and control characters removed, common
Cyrillic/Greek look-alikes mapped to Latin, accents stripped (Spanish rules are written
unaccented), leetspeak digits inside words undone, s p a c e d letters joined, substance
slang mapped to canonical names, whitespace collapsed, case folded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "к": "k",
        "м": "m",
        "т": "t",
        "н": "h",
        "в": "b",
        "ԁ": "d",
        "ɡ": "g",
        "һ": "h",
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "Х": "X",
        "І": "I",
        "Ј": "J",
        "Ѕ": "S",
        # Greek
        "α": "a",
        "ο": "o",
        "ρ": "p",
        "ε": "e",
        "κ": "k",
        "ν": "v",
        "τ": "t",
        "ι": "i",
        "υ": "u",
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Χ": "X",
        "Ι": "I",
        # punctuation look-alikes
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
    }
)
INVISIBLE_RE = re.compile(
    r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s"})
LEET_WORD_RE = re.compile(r"\b(?=\w*[a-z])(?=\w*[0134@$5])[a-z0134@$5]{3,}\b")
SPACED_RE = re.compile(r"\b(?:[a-z][ .]){3,}[a-z]\b")
WS_RE = re.compile(r"\s+")
MARKDOWN_MARK_RE = re.compile(r"[*_`>#]")
# Spanish chat shorthand, the one list (bot/spanish.py spells it out in Spanish text; the router's
# normaliser below in every text): "q es", "pa la energía", "xq", "tmb".
ES_SHORTHAND = {
    "q": "que",
    "k": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "porq": "porque",
    "pa": "para",
    "pal": "para el",
    "tb": "tambien",
    "tmb": "tambien",
    "tbn": "tambien",
    "ta": "esta",
    "tan": "estan",
    "toy": "estoy",
    "ud": "usted",
}
# ...that are also English words or English texting ("k" okay, "pa" dad, "ta" thanks, "tan", "toy"), or
# pieces of English leetspeak ("t4ke" reads as "t" "ke"): the router's normaliser reads every language,
# so it leaves them as they are, and they are no Spanish evidence for guardrails/language.py.
ES_SHORTHAND_ALSO_ENGLISH = frozenset("k ke pa pal tb ta tan toy ud".split())
# Texting shorthand, expanded so rules see words ("his lips r blue" -> "his lips are blue").
SHORTHAND = [
    (re.compile(p), r)
    for p, r in (
        (r"\br\b", "are"),
        (r"\bu\b", "you"),
        (r"\bur\b", "your"),
        (r"\b(?:bc|cuz|coz|bcuz)\b", "because"),
        (r"\bw/o\b", "without"),
        (r"\bw/", "with "),
        (r"\bpls+\b|\bplz+\b", "please"),
        (r"\bsmth\b", "something"),
        (r"\bx favor\b", "por favor"),
        *((rf"\b{k}\b", v) for k, v in ES_SHORTHAND.items() if k not in ES_SHORTHAND_ALSO_ENGLISH),
    )
]


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def clean(text: str) -> str:
    """Display-safe cleanup: NFKC, no invisible or control characters, collapsed spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = INVISIBLE_RE.sub("", text)
    text = CONTROL_RE.sub(" ", text)
    return WS_RE.sub(" ", text).strip()


def comparable(text: str) -> str:
    """A quoted sentence or a passage as they are compared for "word for word": Markdown marks
    dropped, whitespace collapsed, lower case."""
    return WS_RE.sub(" ", MARKDOWN_MARK_RE.sub("", text)).strip().lower()


def _unleet(match: re.Match) -> str:
    word = match.group(0)
    if re.fullmatch(r"\d+[a-z]{1,3}", word) or re.fullmatch(r"[0-9]+", word):
        return word  # 40g, 5mg, 7oh: numbers with units are not leetspeak
    if re.match(r"^\d", word) and not re.search(r"[a-z]\d", word):
        return word
    return word.translate(LEET)


def normalize(text: str, aliases: Sequence[tuple[re.Pattern, str]] = ()) -> str:
    text = clean(text).translate(CONFUSABLES)
    text = strip_accents(text).casefold()
    text = LEET_WORD_RE.sub(_unleet, text)
    text = SPACED_RE.sub(lambda m: re.sub(r"[ .]", "", m.group(0)), text)
    for pattern, expanded in SHORTHAND:
        text = pattern.sub(expanded, text)
    for pattern, canonical in aliases:
        text = pattern.sub(canonical, text)
    return WS_RE.sub(" ", text).strip()
