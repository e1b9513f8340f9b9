"""Spanish turns: find the documents a Spanish question is about and answer from their Spanish lines.

Retrieval (`SpanishSearch`), measured in bench/spanish_retrieval.py: three document rankings fused
by reciprocal rank: BM25 over the Spanish lines (Spanish Snowball stems, accents folded), MiniLM
cosine between the question and the Spanish lines, and the English index reached through a
glossary of the corpus's own terms (corpus/glossary_es.yaml), whose English words are searched by
BM25 in the English chunks (they hold more than each section's first sentence). No extra encode:
the turn's one query vector is only compared with stored vectors.

Composition (`compose_spanish`): the same shape as the English answer (bottom line, 3-5 key
facts, what you can do, sources), built only from the Spanish lines of the retrieved documents,
each cited with its document's number. A line's English twin decides what the English composer
decides from a sentence (focus, dangling references, study metadata).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import snowballstemmer
import yaml
from rank_bm25 import BM25Okapi

from bot.chunking import embedding_text
from bot.retrieval import RRF_K, Retriever, tokenize
from bot.types import Chunk, Passage
from guardrails.normalize import strip_accents

STEMMER = snowballstemmer.stemmer("spanish")
_STEM_LOCK = threading.Lock()  # the pure-Python Snowball stemmer keeps state between calls
WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ES_STOPWORDS = frozenset(strip_accents(w) for w in (
    "a al algo algun alguna algunos ante antes como con contra cual cuales cuando de del desde donde "
    "durante e el ella ellas ellos en entre era eran es esa esas ese eso esos esta estan estas este esto "
    "estos fue fueron ha han hay la las le les lo los mas me mi mis mucho muy ni no nos o otra otro para "
    "pero poco por porque que quien se sea ser si sin sobre son su sus tambien te tiene tienen todo tu tus "
    "un una unas uno unos y ya yo usted ustedes eh pues oye bueno verdad cierto acaso alguien puedo puede "
    "pueden hace hacer qué cómo cuánto cuánta cuántos cuántas dónde cuál vos sos ahi aqui asi entonces "
    "tengo tenes tenés quiero saber sabes decir dice dicen favor hola gracias").split())


def fold(text: str) -> str:
    return strip_accents(text.lower())


def stems(text: str, drop_stopwords: bool = True) -> list[str]:
    words = [w for w in WORD_RE.findall(fold(text)) if not (drop_stopwords and w in ES_STOPWORDS)]
    with _STEM_LOCK:
        return STEMMER.stemWords(words)


def tokenize_es(text: str) -> list[str]:
    """Spanish search tokens: accents folded, stopwords dropped, Snowball stems ('hígado' = 'higado')."""
    return [s for s in stems(text) if s != "kratom"]


@dataclass(frozen=True)
class Glossary:
    """Spanish term (a tuple of stems) -> the English corpus words it stands for."""

    terms: dict[tuple[str, ...], str]

    @classmethod
    def load(cls, path: Path) -> "Glossary":
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}
        terms = {}
        for key, english in ((raw or {}).get("terms") or {}).items():
            key_stems = tuple(stems(str(key), drop_stopwords=False))
            if key_stems:
                terms[key_stems] = str(english)
        return cls(terms)

    def english(self, text: str) -> str:
        """The English corpus words for the glossary terms in `text` (longest phrase first)."""
        words = stems(text, drop_stopwords=False)
        longest = max((len(k) for k in self.terms), default=0)
        out, i = [], 0
        while i < len(words):
            for n in range(min(longest, len(words) - i), 0, -1):
                hit = self.terms.get(tuple(words[i:i + n]))
                if hit:
                    out.append(hit)
                    i += n
                    break
            else:
                i += 1
        return " ".join(out)


def _doc_ranking(chunks: list[Chunk], scores: np.ndarray, n: int, positive: bool = True) -> list[str]:
    """Documents in order of their best chunk's score (top n)."""
    best: dict[str, float] = {}
    for c, s in zip(chunks, scores):
        if positive and s <= 0:
            continue
        if s > best.get(c.doc_id, -np.inf):
            best[c.doc_id] = float(s)
    return [d for d, _ in sorted(best.items(), key=lambda kv: -kv[1])][:n]


MODES = ("bm25_es", "dense_es", "bridge_bm25_en", "dense_en")
DEFAULT_MODES = ("bm25_es", "dense_es", "bridge_bm25_en")  # best MRR on the dev set (bench/spanish_retrieval.py)


class SpanishSearch:
    """Documents for a Spanish question, returned as their Spanish lines (Passage per line)."""

    def __init__(self, retriever: Retriever, glossary: Glossary, top_k: int = 5, modes: tuple[str, ...] = DEFAULT_MODES):
        self.retriever, self.glossary, self.top_k, self.modes = retriever, glossary, top_k, modes
        self._lock = threading.Lock()
        self._version = -1

    def _load(self) -> None:
        r = self.retriever
        with self._lock:
            if self._version == r.version:
                return
            self.chunks: list[Chunk] = list(r.es_chunks)
            self.matrix = r.es_matrix
            self.bm25 = BM25Okapi([tokenize_es(embedding_text(c)) for c in self.chunks]) if self.chunks else None
            self.by_doc: dict[str, list[int]] = {}
            for i, c in enumerate(self.chunks):
                self.by_doc.setdefault(c.doc_id, []).append(i)
            self._version = r.version

    def rankings(self, query: str, vector: np.ndarray, n: int = 20) -> dict[str, list[str]]:
        """Each mode's document ranking (for measurement; `search` fuses the chosen modes)."""
        self.retriever._maybe_reload()
        self._load()
        out: dict[str, list[str]] = {}
        if not self.chunks:
            return {m: [] for m in MODES}
        q = tokenize_es(query)
        out["bm25_es"] = _doc_ranking(self.chunks, self.bm25.get_scores(q), n) if q else []
        out["dense_es"] = _doc_ranking(self.chunks, self.matrix @ vector, n, positive=False)
        english = self.glossary.english(query)
        r = self.retriever
        en_tokens = tokenize(english)
        out["bridge_bm25_en"] = _doc_ranking(r.chunks, r.bm25.get_scores(en_tokens), n) if en_tokens and r.bm25 else []
        out["dense_en"] = _doc_ranking(r.chunks, r.matrix @ vector, n, positive=False) if len(r.chunks) else []
        return out

    def ranked_docs(self, query: str, vector: np.ndarray, modes: tuple[str, ...] | None = None) -> list[tuple[str, float]]:
        fused: dict[str, float] = {}
        for mode, docs in self.rankings(query, vector).items():
            if mode not in (modes or self.modes):
                continue
            for rank, d in enumerate(docs):
                fused[d] = fused.get(d, 0.0) + 1.0 / (RRF_K + rank + 1)
        return sorted(fused.items(), key=lambda kv: -kv[1])

    def search(self, query: str, vector: np.ndarray, k: int | None = None) -> list[Passage]:
        """The Spanish lines of the top-k documents, best document first ([] = nothing matched)."""
        ranked = [(d, s) for d, s in self.ranked_docs(query, vector) if d in self.by_doc][: k or self.top_k]
        out = []
        for doc_id, score in ranked:
            for i in self.by_doc[doc_id]:
                out.append(Passage(self.chunks[i], score=score, similarity=float(self.matrix[i] @ vector)))
        return out


@lru_cache(maxsize=4)
def load_glossary(path: str) -> Glossary:
    return Glossary.load(Path(path))
