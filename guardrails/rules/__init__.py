"""Rule lexicons, one module per route. A rule is an id and one or more regexes, matched on
normalised text (lowercase, no accents, slang mapped to `kratom` / `7oh`).

The router (`guardrails/router.py`) decides how rules combine; these modules only say what
each rule looks for. Rules are written for intents, never for one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    patterns: tuple[re.Pattern, ...]

    def search(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


def rule(rule_id: str, *patterns: str) -> Rule:
    return Rule(rule_id, tuple(re.compile(p) for p in patterns))


def hits(rules: list[Rule], text: str) -> list[str]:
    return [r.id for r in rules if r.search(text)]


# Shared vocabulary
SUBSTANCE = r"(?:kratom|7oh|mitragynine|extract|powder|leaf|capsules?|caps|shots?|tabs?|tablets?|gummies|it|this stuff|that stuff)"
PERSON = (
    r"(?:i|im|i'm|ive|i've|me|my|mine|he|hes|he's|she|shes|she's|they|theyre|they're|his|her|him|them|we|our|"
    r"friend|buddy|bro|bf|gf|boyfriend|girlfriend|husband|hubby|wife|partner|mom|mum|mother|dad|father|son|daughter|"
    r"brother|sister|roommate|roomie|kid|child|baby|toddler|cousin|uncle|aunt|grandma|grandpa|coworker|"
    r"yo|mi|mis|el|ella|esposo|esposa|novio|novia|amigo|amiga|hermano|hermana|mama|papa|hijo|hija)"
)
