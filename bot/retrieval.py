"""Hybrid retrieval: BM25 + dense (Chroma) ranks fused by reciprocal rank fusion.

The dense side queries the Chroma collection with the turn's one query vector (no
second encode). A relevance floor on cosine similarity decides "not covered".
"""

from __future__ import annotations

import logging
import re
import threading
import time

import numpy as np
from langchain_chroma import Chroma
from rank_bm25 import BM25Okapi

from bot.chunking import embedding_text
from bot.embedding import Encoder
from bot.focus import addresses, detect_foci
from bot.index import Index
from bot.types import Chunk, Passage

log = logging.getLogger(__name__)

RRF_K = 60
TOKEN_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
STOPWORDS = frozenset(
    "a an and are as at be but by can could do does for from had has have how i if in into is it its "
    "me my of on or our should so than that the their them then there these they this to was we were "
    "what when where which who why will with would you your".split()
)


def _sentences(text: str) -> list[str]:
    from bot.compose import split_sentences  # lazy: compose imports this module

    return split_sentences(text)


def tokenize(text: str) -> list[str]:
    return [t for t in TOKEN_RE.findall(text.lower()) if t not in STOPWORDS]


class BM25(BM25Okapi):
    """`rank_bm25.BM25Okapi` with the same scores, float for float, without its per-turn Python
    loop over every document for every query word: each word's documents (a posting list) and the
    length normalisation are kept from the build. A document without the word gains exactly 0.0
    from it in `BM25Okapi` too, so only the word's own documents are touched."""

    def __init__(self, corpus: list[list[str]]):
        super().__init__(corpus)
        doc_len = np.array(self.doc_len)
        self._norm = self.k1 * (1 - self.b + self.b * doc_len / self.avgdl)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, freqs in enumerate(self.doc_freqs):
            for word, freq in freqs.items():
                rows, counts = postings.setdefault(word, ([], []))
                rows.append(i)
                counts.append(freq)
        self._postings = {w: (np.array(r), np.array(c)) for w, (r, c) in postings.items()}

    def get_scores(self, query: list[str]) -> np.ndarray:
        score = np.zeros(self.corpus_size)
        for q in query:
            idf = self.idf.get(q) or 0
            if not idf or q not in self._postings:
                continue  # adds 0.0 to every document
            rows, q_freq = self._postings[q]
            score[rows] += idf * (q_freq * (self.k1 + 1) / (q_freq + self._norm[rows]))
        return score


RELOAD_CHECK_SECONDS = 30.0


class Retriever:
    """`dense="memory"` ranks by exact cosine over the vectors loaded from the Chroma collection
    (the store of record); `dense="chroma"` asks Chroma for the nearest chunks on every turn.
    Both see the same index; the pointer is re-checked every 30 s so another process's ingest
    is picked up."""

    def __init__(
        self, index: Index, encoder: Encoder, top_k: int = 5, floor: float = 0.3, dense: str = "memory"
    ):
        self.index, self.encoder, self.top_k, self.floor, self.dense = index, encoder, top_k, floor, dense
        self._lock = threading.Lock()
        self._covering_rows: dict[tuple, np.ndarray] = {}
        self.load()

    def load(self) -> None:
        all_rows = self.index.records(with_embeddings=True)
        rows = [r for r in all_rows if r.chunk.lang == "en"]
        with self._lock:
            self.version = self.index.version
            self.checked_at = time.monotonic()
            # English chunks answer English turns; the Spanish lines (corpus/es/) are bot/spanish.py's
            spanish = [r for r in all_rows if r.chunk.lang == "es"]
            self.es_chunks: list[Chunk] = [r.chunk for r in spanish]
            self.es_matrix = np.asarray([r.embedding for r in spanish], dtype=np.float32).reshape(
                len(spanish), self.encoder.dimension
            )
            self.chunks: list[Chunk] = [r.chunk for r in rows]
            self.position = {c.chunk_id: i for i, c in enumerate(self.chunks)}
            self.matrix = np.asarray([r.embedding for r in rows], dtype=np.float32).reshape(
                len(rows), self.encoder.dimension
            )
            self.bm25 = BM25([tokenize(embedding_text(c)) for c in self.chunks]) if rows else None
            self.store = (
                Chroma(
                    client=self.index.client,
                    collection_name=self.index.active_name or "",
                    embedding_function=self.encoder,
                )
                if rows
                else None
            )

    def stats(self) -> dict[str, int]:
        """The index this retriever serves: version, documents and chunks."""
        with self._lock:
            return {
                "index_version": self.version,
                "documents": len({c.doc_id for c in self.chunks}),
                "chunks": len(self.chunks),
            }

    def _maybe_reload(self) -> None:
        if time.monotonic() - self.checked_at < RELOAD_CHECK_SECONDS:
            return
        self.checked_at = time.monotonic()
        if self.index.version != self.version:
            log.info("index switched to v%s; reloading", self.index.version)
            self.load()

    def _dense(self, vector: np.ndarray, n: int, sims: np.ndarray) -> list[str]:
        if self.dense == "memory":
            top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
            return [self.chunks[i].chunk_id for i in top[np.argsort(-sims[top])]]
        k = n + len(self.es_chunks)  # the collection also holds the Spanish lines: skip them, keep n English
        assert self.store is not None  # set whenever there are chunks
        try:
            hits = self.store.similarity_search_by_vector_with_relevance_scores(vector.tolist(), k=k)
        except Exception:  # the collection was switched by an ingest in another process
            log.info("dense query failed; reloading index pointer")
            self.load()
            assert self.store is not None
            hits = self.store.similarity_search_by_vector_with_relevance_scores(vector.tolist(), k=k)
        return [doc.id for doc, _distance in hits if doc.id in self.position][:n]

    def search(self, query: str, vector: np.ndarray, k: int | None = None) -> list[Passage]:
        """Top-k passages, or [] when nothing clears the relevance floor."""
        k = k or self.top_k
        if not self.chunks or not query.strip():
            return []
        self._maybe_reload()
        n = min(len(self.chunks), max(20, 4 * k))
        sims = self.matrix @ vector
        dense_ids = self._dense(vector, n, sims)
        assert self.bm25 is not None  # built whenever there are chunks
        scores = self.bm25.get_scores(tokenize(query))
        bm25_order = [i for i in np.argsort(-scores)[:n] if scores[i] > 0]
        fused: dict[int, float] = {}
        for rank, cid in enumerate(dense_ids):
            if cid in self.position:
                i = self.position[cid]
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, i in enumerate(bm25_order):
            fused[int(i)] = fused.get(int(i), 0.0) + 1.0 / (RRF_K + rank + 1)
        if float(sims.max()) < self.floor:
            return []
        passage_floor = self.floor - 0.1
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        out = [
            Passage(self.chunks[i], score=s, similarity=float(sims[i]))
            for i, s in ranked
            if sims[i] >= passage_floor
        ]
        return out[:k] + self._covering(query, out[:k], sims, passage_floor)

    def _covering(self, query: str, top: list[Passage], sims: np.ndarray, floor: float) -> list[Passage]:
        """When the question asks about the law in a place ("is kratom controlled in Thailand?") and no
        top passage addresses it, the two closest chunks that do join (the composer keeps to them), so
        "not covered" is said only when the corpus lacks it."""
        foci = [f for f in detect_foci(query) if f.place]
        if not foci or any(addresses(f, p.chunk.text, p.chunk.heading) for f in foci for p in top):
            return []
        key = (self.version, tuple(f.name for f in foci))
        if key not in self._covering_rows:
            self._covering_rows[key] = np.asarray(
                [
                    i
                    for i, c in enumerate(self.chunks)
                    if any(addresses(f, s, c.heading) for f in foci for s in _sentences(c.text))
                ],
                dtype=np.int64,
            )
        rows = self._covering_rows[key]
        if not len(rows):
            return []
        best = rows[np.argsort(-sims[rows])[:2]]
        return [
            Passage(self.chunks[i], score=0.0, similarity=float(sims[i])) for i in best if sims[i] >= floor
        ]
