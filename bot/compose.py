"""Answer composition. `Composer` is a LangChain Runnable: {"question", "vector", "passages"} ->
Draft, so an LLM-based composer can replace the default without touching the rest.

`ExtractiveComposer` (default, offline): every sentence of an answer is a sentence of a
retrieved passage, chosen by similarity to the question (sentence vectors are computed once
per index, never per turn), de-duplicated, and followed by its document's citation number.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig

from bot.citations import citations_for, number_documents, sources_block
from bot.embedding import Encoder, cached_vectors
from bot.retrieval import tokenize
from bot.types import Chunk, Citation, Passage
from guardrails.output_checks import sentence_problems

log = logging.getLogger(__name__)

ABBREVIATIONS = ("U.S.", "U.K.", "Dr.", "e.g.", "i.e.", "et al.", "vs.", "No.", "Vol.", "approx.", "Jan.", "Feb.",
                 "Aug.", "Sept.", "Oct.", "Nov.", "Dec.", "St.", "Inc.", "Mr.", "Ms.")
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(“])")
MIN_WORDS, MAX_WORDS = 5, 70


def split_sentences(text: str) -> list[str]:
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*[-*] )", text):
        block = re.sub(r"^\s*[-*]\s+", "", block.strip())
        block = re.sub(r"\s+", " ", block)
        if not block or block.startswith("#"):
            continue
        protected = block
        for i, abbr in enumerate(ABBREVIATIONS):
            protected = protected.replace(abbr, abbr.replace(".", f"\x00{i}\x00"))
        for sentence in SENTENCE_END_RE.split(protected):
            sentence = re.sub(r"\x00\d+\x00", ".", sentence).strip()
            if sentence:
                out.append(sentence)
    return out


@dataclass(frozen=True)
class Sentence:
    chunk_id: str
    position: int
    text: str
    row: int  # row in the sentence matrix


@dataclass
class Draft:
    text: str
    body: str
    citations: list[Citation] = field(default_factory=list)
    used: list[tuple[str, int]] = field(default_factory=list)  # (sentence, citation number)
    cited_passages: dict[int, str] = field(default_factory=dict)


class Composer(Runnable[dict, Draft]):
    """Interface: invoke({"question": str, "vector": np.ndarray, "passages": [Passage]}) -> Draft."""

    def invoke(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Draft:  # noqa: A002
        raise NotImplementedError


def cited_passages_for(passages: list[Passage], numbers: dict[str, int]) -> dict[int, str]:
    """Citation number -> all retrieved passage text of that document (what the output check reads)."""
    out: dict[int, list[str]] = {}
    for p in passages:
        if p.doc_id in numbers:
            out.setdefault(numbers[p.doc_id], []).append(" ".join(split_sentences(p.chunk.text)))
    return {n: "\n".join(texts) for n, texts in out.items()}


class ExtractiveComposer(Composer):
    def __init__(self, encoder: Encoder, chunks: list[Chunk], cache_dir: Path | None = None,
                 words: int = 150, disclaimer: str = ""):
        self.words, self.disclaimer = words, disclaimer
        self.sentences: dict[str, list[Sentence]] = {}
        texts: list[str] = []
        for chunk in chunks:
            rows = []
            for pos, s in enumerate(split_sentences(chunk.text)):
                rows.append(Sentence(chunk.chunk_id, pos, s, len(texts)))
                texts.append(s)
            self.sentences[chunk.chunk_id] = rows
        self.matrix = cached_vectors(encoder, texts, cache_dir, "sentences")

    def select(self, question: str, vector: np.ndarray, passages: list[Passage],
               budget: int | None = None) -> list[tuple[Sentence, Passage]]:
        budget = budget or self.words
        q_tokens = set(tokenize(question)) - {"kratom"}
        scored: list[tuple[float, Sentence, Passage, int]] = []
        for rank, p in enumerate(passages):
            for s in self.sentences.get(p.chunk.chunk_id, []):
                n_words = len(s.text.split())
                if n_words < MIN_WORDS or n_words > MAX_WORDS or sentence_problems(s.text):
                    continue  # planted instructions, markup, links, amounts are never quoted
                sem = float(self.matrix[s.row] @ vector)
                tokens = set(tokenize(s.text))
                lex = len(q_tokens & tokens) / len(q_tokens) if q_tokens else 0.0
                scored.append((sem + 0.25 * lex + 0.05 / (1 + rank), s, p, rank))
        scored.sort(key=lambda x: -x[0])
        chosen: list[tuple[float, Sentence, Passage, int]] = []
        seen_tokens: list[set[str]] = []
        words = 0
        per_doc: dict[str, int] = {}
        for score, s, p, rank in scored:
            if chosen and (score < 0.35 or words >= budget):
                break
            tokens = set(tokenize(s.text))
            if any(len(tokens & t) / max(1, len(tokens | t)) > 0.6 for t in seen_tokens):
                continue
            if any(float(self.matrix[s.row] @ self.matrix[c.row]) > 0.82 for _, c, _, _ in chosen):
                continue  # says the same thing as a sentence already chosen
            if per_doc.get(p.doc_id, 0) >= 3:
                continue
            chosen.append((score, s, p, rank))
            seen_tokens.append(tokens)
            per_doc[p.doc_id] = per_doc.get(p.doc_id, 0) + 1
            words += len(s.text.split())
        chosen.sort(key=lambda x: (x[3], x[1].position))
        return [(s, p) for _, s, p, _ in chosen]

    def invoke(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Draft:  # noqa: A002
        question, vector, passages = input["question"], input["vector"], input["passages"]
        picked = self.select(question, vector, passages, input.get("words"))
        if not picked:
            return Draft(text="", body="")
        used_passages = []
        for _, p in picked:
            if p not in used_passages:
                used_passages.append(p)
        numbers = number_documents(used_passages)
        used = [(s.text, numbers[p.doc_id]) for s, p in picked]
        body = " ".join(f"{text} [{n}]" for text, n in used)
        citations = citations_for(used_passages, numbers)
        parts = [body, sources_block(citations)]
        if self.disclaimer and input.get("disclaimer", True):
            parts.append(f"_{self.disclaimer}_")
        return Draft("\n\n".join(parts), body, citations, used, cited_passages_for(passages, numbers))
