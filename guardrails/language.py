"""Spanish or English, from function words and Spanish-only characters."""

from __future__ import annotations

import re

from guardrails.normalize import clean, strip_accents

ES_WORDS = frozenset(
    "el la los las un una unos unas de del que y en es por para con sin mi mis tu su se lo le les al como pero "
    "muy mas esta estoy esto eso hay son fue tiene tengo puedo puede quiero cuanto cuanta cuantos cuantas donde "
    "cuando porque tomo tome tomar amigo amiga hermano mama papa hijo hija ayuda dolor sirve daña dana higado "
    "despierta respira pecho dosis gramos sale prueba legal es hola gracias tambien ya ahora nada algo".split()
)
EN_WORDS = frozenset(
    "the a an of and to in is it you i my he she they that this what how much many can does do is are was "
    "with for on not be have has had took take should would could will me him her his help please just about "
    "friend kratom safe liver legal dose".split()
)
WORD_RE = re.compile(r"[a-zñ]+")


def detect_lang(text: str) -> str:
    raw = clean(text).lower()
    if re.search(r"[ñ¿¡]|[áéíóú]\w", raw):
        return "es"
    words = WORD_RE.findall(strip_accents(raw))
    es = sum(w in ES_WORDS for w in words)
    en = sum(w in EN_WORDS for w in words)
    return "es" if es > en else "en"


def conversation_lang(user_turns: list[str]) -> str:
    """The language of the last turn; a last turn too short to tell follows the earlier ones."""
    last = user_turns[-1] if user_turns else ""
    if len(WORD_RE.findall(last.lower())) >= 3 or len(user_turns) == 1:
        return detect_lang(last)
    return detect_lang(" ".join(user_turns[-3:]))
