"""Hybrid retrieval: BM25 + dense (Chroma) ranks fused by reciprocal rank fusion.

The dense side queries the Chroma collection with the turn's one query vector (no
second encode). A relevance floor on cosine similarity decides "not covered".
"""

from __future__ import annotations

import logging
import re
import threading

import numpy as np
from langchain_chroma import Chroma
from rank_bm25 import BM25Okapi

from bot.chunking import embedding_text
from bot.embedding import Encoder
from bot.index import Index, chunk_from_record
from bot.types import Chunk, Passage

log = logging.getLogger(__name__)

RRF_K = 60
TOKEN_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
STOPWORDS = frozenset(
    "a an and are as at be but by can could do does for from had has have how i if in into is it its "
    "me my of on or our should so than that the their them then there these they this to was we were "
    "what when where which who why will with would you your".split()
)


def tokenize(text: str) -> list[str]:
    return [t for t in TOKEN_RE.findall(text.lower()) if t not in STOPWORDS]


class Retriever:
    def __init__(self, index: Index, encoder: Encoder, top_k: int = 5, floor: float = 0.3):
        self.index, self.encoder, self.top_k, self.floor = index, encoder, top_k, floor
        self._lock = threading.Lock()
        self.load()

    def load(self) -> None:
        rows = self.index.records(with_embeddings=True)
        with self._lock:
            self.version = self.index.version
            self.chunks: list[Chunk] = [r.chunk for r in rows]
            self.position = {c.chunk_id: i for i, c in enumerate(self.chunks)}
            self.matrix = np.asarray([r.embedding for r in rows], dtype=np.float32).reshape(
                len(rows), self.encoder.dimension
            )
            self.bm25 = BM25Okapi([tokenize(embedding_text(c)) for c in self.chunks]) if rows else None
            self.store = (
                Chroma(client=self.index.client, collection_name=self.index.active_name,
                       embedding_function=self.encoder)
                if rows else None
            )

    @property
    def documents(self) -> int:
        return len({c.doc_id for c in self.chunks})

    def _dense(self, vector: np.ndarray, n: int) -> list[str]:
        try:
            hits = self.store.similarity_search_by_vector_with_relevance_scores(vector.tolist(), k=n)
        except Exception:  # the collection was switched by an ingest in another process
            log.info("dense query failed; reloading index pointer")
            self.load()
            hits = self.store.similarity_search_by_vector_with_relevance_scores(vector.tolist(), k=n)
        return [doc.id for doc, _distance in hits]

    def search(self, query: str, vector: np.ndarray, k: int | None = None) -> list[Passage]:
        """Top-k passages, or [] when nothing clears the relevance floor."""
        k = k or self.top_k
        if not self.chunks or not query.strip():
            return []
        n = min(len(self.chunks), max(20, 4 * k))
        dense_ids = self._dense(vector, n)
        scores = self.bm25.get_scores(tokenize(query))
        bm25_order = [i for i in np.argsort(-scores)[:n] if scores[i] > 0]
        fused: dict[int, float] = {}
        for rank, cid in enumerate(dense_ids):
            if cid in self.position:
                i = self.position[cid]
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, i in enumerate(bm25_order):
            fused[int(i)] = fused.get(int(i), 0.0) + 1.0 / (RRF_K + rank + 1)
        sims = self.matrix @ vector
        if float(sims.max()) < self.floor:
            return []
        passage_floor = self.floor - 0.1
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        out = [
            Passage(self.chunks[i], score=s, similarity=float(sims[i]))
            for i, s in ranked
            if sims[i] >= passage_floor
        ]
        return out[:k]
