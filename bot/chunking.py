"""Document -> sections -> Chunk. A section is the text under one `##` heading.

The text before the first heading is the document's summary and becomes its own chunk
("Summary"). Each chunk repeats the document title in its searchable text so a lone
section is still about something.
"""

from __future__ import annotations

import re

from bot.corpus_loader import Document
from bot.types import Chunk

HEADING_RE = re.compile(r"^#{1,3}\s+(.+?)\s*#*\s*$", re.MULTILINE)
CHUNKER_VERSION = "1"  # bump when chunking changes, so ingest re-embeds everything


def sections(body: str) -> list[tuple[str, str]]:
    matches = list(HEADING_RE.finditer(body))
    out: list[tuple[str, str]] = []
    head = body[: matches[0].start()] if matches else body
    if head.strip():
        out.append(("Summary", head.strip()))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        text = body[m.end() : end].strip()
        if text:
            out.append((m.group(1).strip(), text))
    return out


def chunk_document(doc: Document) -> list[Chunk]:
    return [
        Chunk(
            chunk_id=f"{doc.id}#{i}",
            doc_id=doc.id,
            title=doc.title,
            heading=heading,
            publisher=doc.publisher,
            year=doc.year,
            url=doc.url,
            text=text,
        )
        for i, (heading, text) in enumerate(sections(doc.body))
    ]


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded and BM25-indexed for a chunk: heading and title give it context. A Spanish
    line gets its Spanish heading only (the title stays in the source's language)."""
    if chunk.lang == "es":
        return f"{chunk.heading}. {chunk.text}"
    return f"{chunk.title}. {chunk.heading}. {chunk.text}"
