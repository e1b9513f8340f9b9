"""What a question asks about that no retrieved passage addresses (issue #12): the general
"not covered" check, for topics nobody listed in `bot/focus.yaml`.

A word of the latest user turn is a *gap* when
1. no retrieved passage says it: not its stem, not a near spelling ("withdrawl"), not an acronym of
   the passage's words ("DILI" = drug-induced liver injury), not a lay word the table maps to a
   passage word ("pee" = urine);
2. it carries the question: its vector is close to the question's (`SALIENCE_MIN`);
3. no retrieved sentence is close to it in meaning either (`COVER_MAX`: "weed" near a cannabis
   sentence is addressed);
4. it names a thing a health question can be about (a body part, condition, drug, place, group,
   rule or activity) rather than chat ("lol", "my roommate", "a reddit post"): its nearest
   prototypes in `focus.yaml` (`gaps.topic_prototypes` vs `gaps.chat_prototypes`) say so.
Chat words, relations and rhetoric that would never be a focus are dropped before any encoding
(`gaps.filler`). Dose-evidence questions and questions with a named focus are left to their own
paths. The candidate words are encoded in one small batch (their vectors are memoised).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bot.embedding import Encoder, cached_vectors
from bot.focus import ACTION_TOPICS, DOSE_RE, PLACE_WORDS
from bot.retrieval import STOPWORDS, TOKEN_RE
from bot.types import Chunk, Passage

GAPS = yaml.safe_load(Path(__file__).with_name("focus.yaml").read_text("utf-8"))["gaps"]
FILLER = frozenset(GAPS["filler"].split())
LAY_WORDS: dict[str, tuple[str, ...]] = {k: tuple(v.split()) for k, v in GAPS["lay_words"].items()}
TOPIC_PROTOTYPES: tuple[str, ...] = tuple(GAPS["topic_prototypes"].split())
CHAT_PROTOTYPES: tuple[str, ...] = tuple(GAPS["chat_prototypes"].split())
PROTOTYPES = TOPIC_PROTOTYPES + CHAT_PROTOTYPES

SALIENCE_MIN = 0.33  # cosine(word, question): the word carries the question
COVER_MAX = 0.30  # cosine(word, best retrieved sentence): at or above, a passage addresses it in other words
PROTOTYPE_K = 3  # a word's kind: the mean of its k nearest prototypes of each kind


@dataclass(frozen=True)
class Gap:
    word: str  # as the question spells it (lower case)
    salience: float
    cover: float


def en_stem(word: str) -> str:
    """The English stem the Spanish bridge uses (one memoised stemmer; imported late: bot.spanish
    imports the composer, which imports this module)."""
    from bot.spanish import en_stem as stem

    return stem(word)


def _edits(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _acronyms(text: str) -> set[str]:
    """Initials of every run of 3-5 words of four letters or more ("drug-induced liver injury" ->
    "dili"; "neonatal abstinence syndrome" -> "nas"). A run stops at a shorter word, so "the
    Substance Abuse" makes no "tsa"."""
    out: set[str] = {
        "".join(p[0] for p in w.split("-")) for w in re.findall(r"[a-z]+(?:-[a-z]+)+", text.lower())
    }  # "over-the-counter" -> "otc"
    for run in re.split(r"[^a-z\s/-]|\b[a-z]{1,3}\b", text.lower()):
        initials = "".join(w[0] for w in re.split(r"[\s/-]+", run) if len(w) >= 4)
        out |= {initials[i : i + n] for n in range(3, 6) for i in range(len(initials) - n + 1)}
    return out


class Vocabulary:
    """What a set of sections says: word stems, words (by their first three letters, for near
    spellings) and acronyms of their phrases."""

    def __init__(self, chunks: Iterable[Chunk]):
        stems: set[str] = set()
        by_prefix: dict[str, set[str]] = {}
        acros: set[str] = set()
        for c in chunks:
            text = f"{c.title}\n{c.heading}\n{c.text}"
            for w in TOKEN_RE.findall(text.lower()):
                by_prefix.setdefault(w[:3], set()).add(w)
                stems.update(en_stem(p) for p in (w, *w.split("-")))
            acros |= _acronyms(text)
        self.stems, self.by_prefix, self.acronyms = frozenset(stems), by_prefix, frozenset(acros)

    @classmethod
    def merged(cls, parts: Iterable[Vocabulary]) -> Vocabulary:
        """What all of `parts` say together (the corpus from its sections, without reading it again)."""
        out = cls(())
        stems: set[str] = set()
        acros: set[str] = set()
        for v in parts:
            stems |= v.stems
            acros |= v.acronyms
            for prefix, words in v.by_prefix.items():
                out.by_prefix.setdefault(prefix, set()).update(words)
        out.stems, out.acronyms = frozenset(stems), frozenset(acros)
        return out

    def says(self, word: str) -> bool:
        parts = word.split("-")
        return (
            en_stem(word) in self.stems
            or (len(parts) > 1 and any(en_stem(p) in self.stems for p in parts))
            or any(self.has(s) for s in LAY_WORDS.get(word, ()))
            or (word.isalpha() and 3 <= len(word) <= 5 and word in self.acronyms)
            or self._near_spelling(word)
        )

    def has(self, word: str) -> bool:
        return word in self.by_prefix.get(word[:3], ())

    def _near_spelling(self, word: str) -> bool:
        """ "withdrawl" ~ "withdrawal", "krat" ~ "kratom": same first three letters and one edit (two
        for words of seven letters or more), or the question's word starts a corpus word ("krat"), or a
        corpus word of six letters or more starts it ("withdrawals"). "teeth" is not "teens", and
        "thistle" is not "this"."""
        if len(word) < 4:
            return False
        for v in self.by_prefix.get(word[:3], ()):
            if v.startswith(word) or (word.startswith(v) and len(v) >= 6 and len(word) - len(v) <= 3):
                return True
            limit = 2 if len(word) >= 7 else 1
            if abs(len(v) - len(word)) <= limit and _edits(word, v) <= limit:
                return True
        return False


class GapFinder:
    """`find(last, vector, passages, sentence_rows)` -> the gaps of the latest user turn."""

    def __init__(self, encoder: Encoder, chunks: list[Chunk], matrix: np.ndarray, cache_dir: Path | None):
        self.encoder, self.matrix = encoder, matrix
        self.sections = {c.chunk_id: Vocabulary([c]) for c in chunks}
        self.corpus = Vocabulary.merged(self.sections.values())
        self.cache_dir = cache_dir
        self._prototypes: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] = {}

    def prototypes(self) -> tuple[np.ndarray, np.ndarray]:
        """(topic, chat) prototype vectors: encoded the first time a turn has a candidate word, then
        kept in the vector cache beside the index (so neither a start nor an ingest encodes them)."""
        with self._lock:
            if self._prototypes is None:
                protos = cached_vectors(self.encoder, list(PROTOTYPES), self.cache_dir, "gap-prototypes")
                self._prototypes = (protos[: len(TOPIC_PROTOTYPES)], protos[len(TOPIC_PROTOTYPES) :])
            return self._prototypes

    def _encode(self, words: list[str]) -> np.ndarray:
        """The words' vectors: the ones not seen before in one forward pass (kept for the process)."""
        known = {w: v for w in words if (v := self._vectors.get(w)) is not None}
        new = [w for w in words if w not in known]
        if new:
            fresh = dict(zip(new, self.encoder.encode(new)))
            known.update(fresh)
            if len(self._vectors) > 50_000:  # a bound on what a public server keeps
                self._vectors = {}
            self._vectors.update(fresh)
        return np.stack([known[w] for w in words])

    def candidates(self, last: str, passages: list[Passage]) -> list[str]:
        """Words of `last` that no retrieved passage says, in any spelling the checks know."""
        sections = [self.sections[p.chunk.chunk_id] for p in passages if p.chunk.chunk_id in self.sections]
        out: list[str] = []
        for w in TOKEN_RE.findall(last.lower()):
            if (
                w in out
                or len(w) < 2
                or any(ch.isdigit() for ch in w)
                or "kratom" in w
                or w in STOPWORDS
                or w in FILLER
                or w in PLACE_WORDS  # a place is a focus only beside a law word (bot/focus.py)
                or DOSE_RE.search(w)
                or any(pattern.search(w) for _, pattern in ACTION_TOPICS)  # what-to-do topics
                or any(v.says(w) for v in sections)
            ):
                continue
            out.append(w)
        return out

    def find(self, last: str, vector: np.ndarray, passages: list[Passage], rows: list[int]) -> list[Gap]:
        """The gaps of `last`, most salient first. A gap is confirmed by a word that passes every
        test and that the whole corpus never says (a word the corpus says elsewhere is a retrieval
        miss, not a gap); then every salient unaddressed word names it ("period" beside "cycle").
        `vector`: the question's; `rows`: the retrieved sentences' rows in the composer's sentence matrix."""
        words = self.candidates(last, passages)
        absent = np.array([not self.corpus.says(w) for w in words])
        if not absent.any():  # no word the corpus never says: no gap, whatever the vectors (no encode)
            return []
        vectors = self._encode(words)
        salience = vectors @ vector
        cover = (self.matrix[rows] @ vectors.T).max(axis=0) if rows else np.zeros(len(words))
        topics, chats = self.prototypes()
        topic = np.sort(vectors @ topics.T, axis=1)[:, -PROTOTYPE_K:].mean(axis=1)
        chat = np.sort(vectors @ chats.T, axis=1)[:, -PROTOTYPE_K:].mean(axis=1)
        unaddressed = (salience >= SALIENCE_MIN) & (cover < COVER_MAX)
        if not (unaddressed & (topic >= chat) & absent).any():
            return []
        gaps = [Gap(w, float(s), float(c)) for w, s, c, u in zip(words, salience, cover, unaddressed) if u]
        return sorted(gaps, key=lambda g: -g.salience)
