"""Number cited documents [1], [2] ... in order of first use (bot/render.py writes the Sources block)."""

from __future__ import annotations

from bot.types import Citation, Passage


def number_documents(passages: list[Passage]) -> dict[str, int]:
    """One number per document, in order of first use."""
    numbers: dict[str, int] = {}
    for p in passages:
        numbers.setdefault(p.doc_id, len(numbers) + 1)
    return numbers


def citations_for(passages: list[Passage], numbers: dict[str, int]) -> list[Citation]:
    seen: dict[str, Citation] = {}
    for p in passages:
        if p.doc_id in numbers and p.doc_id not in seen:
            c = p.chunk
            seen[p.doc_id] = Citation(
                numbers[p.doc_id], c.doc_id, c.chunk_id, c.title, c.publisher, c.year, c.url
            )
    return sorted(seen.values(), key=lambda c: c.number)
