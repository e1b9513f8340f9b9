"""detect_foci's place prefilter (bot/focus.py): skipping the place patterns when no state or
country is named finds exactly the foci that trying every pattern finds."""

from pathlib import Path

from bot import focus
from bot.eval.dataset import read_jsonl

DATA = Path(__file__).parent / "data"


def every_pattern(*texts: str) -> list[str]:
    for text in texts:
        found = [f.name for f in focus.ALL_FOCI if text and f.question.search(text)]
        if found:
            return found
    return []


def test_the_place_prefilter_finds_what_every_pattern_finds():
    texts = [
        "is kratom legal in new   york?",
        "kratom laws in NORWAY",
        "can I buy kratom in El Salvador",
        "¿es legal el kratom en España?",
        "my order from Indonesia never came",
        "does kratom show up on a drug test",
    ]
    for name in ("answers_independent", "devset_a", "spanish_questions"):
        texts += [t for _, row in read_jsonl(DATA / f"{name}.jsonl") for t in row["turns"]]
    placed = 0
    for text in texts:
        for variant in (text, f"{text} is it legal there?"):
            # before narrowing, the found foci are the same; a place named is still read
            assert every_pattern(variant) == [
                f.name
                for f in (focus.ALL_FOCI if focus._ANY_PLACE_RE.search(variant) else focus._NOT_PLACE_FOCI)
                if f.question.search(variant)
            ]
            placed += any(f.endswith("_law") and f != "uk_law" for f in every_pattern(variant))
    assert placed > 5  # the set names places, so the full path is checked too
    assert [f.name for f in focus.detect_foci("is kratom legal in new   york?")] == ["state_new_york_law"]
