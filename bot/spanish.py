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
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import snowballstemmer
import yaml

import bot.focus as english_rules  # the English question rules, read on the glossary English
from bot.chunking import embedding_text
from bot.citations import citations_for, number_documents
from bot.compose import AGENCIES, SAFETY_RE, YES_NO_RE, Draft, cited_passages_for, is_contained
from bot.embedding import cached_vectors
from bot.lead import WRONG_TYPE_PENALTY
from bot.retrieval import BM25, Retriever, tokenize
from bot.types import Chunk, Fact, Passage
from guardrails.language import EN_WORDS, ES_WORDS, detect_lang
from guardrails.normalize import ES_SHORTHAND, strip_accents
from guardrails.output_checks import sentence_problems

STEMMER = snowballstemmer.stemmer("spanish")
EN_STEMMER = snowballstemmer.stemmer("english")  # the bridge's English words meet the English text stemmed
_STEM_LOCK = threading.Lock()  # the pure-Python Snowball stemmer keeps state between calls
WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ES_STOPWORDS = frozenset(
    strip_accents(w)
    for w in (
        "a al algo algun alguna algunos ante antes como con contra cual cuales cuando de del desde donde "
        "durante e el ella ellas ellos en entre era eran es esa esas ese eso esos esta estan estas este esto "
        "estos fue fueron ha han hay la las le les lo los mas me mi mis mucho muy ni no nos o otra otro para "
        "pero poco por porque que quien se sea ser si sin sobre son su sus tambien te tiene tienen todo tu tus "
        "un una unas uno unos y ya yo usted ustedes eh pues oye bueno verdad cierto acaso alguien puedo puede "
        "pueden hace hacer qué cómo cuánto cuánta cuántos cuántas dónde cuál vos sos ahi aqui asi entonces "
        "tengo tenes tenés quiero saber sabes decir dice dicen favor hola gracias"
    ).split()
)
# Who is asking about whom, and how they greet: questions are often about a relative or a friend
# ("mi mamá toma kratom y pastillas para la tensión"), and "madre" then matched the mother of a
# neonatal case report. These name no topic. ("hijo", "niño", "bebé" do: children, teens, infants.)
ES_PEOPLE_WORDS = frozenset(
    strip_accents(w)
    for w in (
        "mamá madre mami papá padre papi apá amá viejo vieja esposo esposa marido novio novia hermano hermana "
        "primo prima tío tía abuelo abuela suegra suegro cuñado cuñada amigo amiga amigos amigas compa compadre "
        "comadre vecino vecina conocido conocida roommate coworker compañero compañera pana parce mae maje che "
        "bro man asere oigan oye buenas"
    ).split()
)
ES_STOPWORDS = ES_STOPWORDS | ES_PEOPLE_WORDS


# Chat shorthand read as the word it stands for ("q es", "pa la energía", "xq"): everyday messages
# from every region write them, and "q es" must be the definition question "qué es" is. The list
# lives with the router's normaliser (guardrails/normalize.py `ES_SHORTHAND`).
SHORTHAND_RE = re.compile(r"\b(?:" + "|".join(sorted(ES_SHORTHAND, key=len, reverse=True)) + r")\b")


def fold(text: str) -> str:
    """Lower case, accents stripped, chat shorthand spelled out."""
    return SHORTHAND_RE.sub(lambda m: ES_SHORTHAND[m.group(0)], strip_accents(text.lower()))


# One country, one token: "Estados Unidos" must not count twice against a one-word topic ("legal").
US_RE = re.compile(r"\bestados unidos\b|\bee\.?\s?uu\.?(?!\w)|\beeuu\b")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    with _STEM_LOCK:
        return STEMMER.stemWord(word)


def stems(text: str, drop_stopwords: bool = True) -> list[str]:
    return [
        stem(w)
        for w in WORD_RE.findall(US_RE.sub(" eeuu ", fold(text)))
        if not (drop_stopwords and w in ES_STOPWORDS)
    ]


@lru_cache(maxsize=65536)
def en_stem(word: str) -> str:
    with _STEM_LOCK:
        return EN_STEMMER.stemWord(word)


def tokenize_en_stems(text: str) -> list[str]:
    """English search tokens stemmed ("contamination" = "contaminated"), for the glossary bridge.
    Each distinct word is stemmed once per process: the English chunks repeat their words, and
    stemming them all was most of loading the Spanish search at start-up (issue #15)."""
    return [t for t in map(en_stem, tokenize(text)) if t != "kratom"]


# What a question asks, in words the stopword list drops: "¿Qué es el kratom?" is a definition,
# "¿Por qué advierte la FDA...?" a reason. A question and a heading of the same kind match on it.
FRAMES = (
    (
        "_what_is",
        re.compile(
            # not "que" as a conjunction: "lo que es", "así que es seguro", "dice que es natural"
            r"(?<!\blo )(?<!\basi )(?<!\bya )(?<!\bdice )(?<!\bdicen )(?<!\bverdad )"
            r"\bque (?:es|son|significa)\b(?! lo que)|\bque onda con\b|"
            r"\bwhat(?:'s| is| are)(?: the deal with| the deal| up with)?\b"
        ),
    ),
    ("_why", re.compile(r"\bpor que\b")),
    # a count or a share ("¿cuántos adolescentes lo usan?" meets "¿Cuántos niños y adolescentes han
    # consumido kratom?"), a place to get it, a sign to look for: the question words are stopwords
    (
        "_how_many",
        re.compile(
            r"\bcuant(?:os|as)\b|\bcuanta gente\b|\bque tan (?:comun|frecuente)\b|\bque (?:porcentaje|proporcion)\b|"
            r"\bhow (?:many|common)\b|\bwhat percent"
        ),
    ),
    ("_where", re.compile(r"\bdonde\b|\bwhere\b")),
    ("_signs", re.compile(r"\bsenales\b|\bcomo se (?:manifiesta|nota)\b|\bsigns?\b")),
)


def frames(text: str) -> frozenset[str]:
    folded = fold(text)
    return frozenset(name for name, pattern in FRAMES if pattern.search(folded))


def tokenize_es(text: str) -> list[str]:
    """Spanish search tokens: accents folded, stopwords dropped, Snowball stems ('hígado' = 'higado')."""
    return [s for s in stems(text) if s != "kratom"]


@dataclass(frozen=True)
class Glossary:
    """Spanish term (a tuple of stems) -> the English corpus words it stands for."""

    terms: dict[tuple[str, ...], str]
    lengths: dict[tuple[str, ...], int]  # each key's length in letters
    # topics the corpus has no source for: key stems -> (the Spanish label, its English words)
    absent: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Glossary:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}
        terms: dict[tuple[str, ...], str] = {}
        lengths: dict[tuple[str, ...], int] = {}
        for key, english in ((raw or {}).get("terms") or {}).items():
            key_stems = tuple(stems(str(key), drop_stopwords=False))
            if (
                key_stems
            ):  # keys sharing stems ("seguro", "seguridad") keep all their words and the shortest length
                words = [*terms.get(key_stems, "").split(), *str(english).split()]
                terms[key_stems] = " ".join(dict.fromkeys(words))
                lengths[key_stems] = min(lengths.get(key_stems, 99), len(fold(str(key))))
        absent: dict[tuple[str, ...], tuple[str, str]] = {}
        for key, (label, english) in ((raw or {}).get("absent") or {}).items():
            key_stems = tuple(stems(str(key), drop_stopwords=False))
            if key_stems and key_stems not in terms:  # a corpus term is never an absent topic
                absent[key_stems] = (str(label), str(english))
                lengths[key_stems] = min(lengths.get(key_stems, 99), len(fold(str(key))))
        return cls(terms, lengths, absent)

    def _matches(self, table: dict[tuple[str, ...], Any], text: str) -> list[Any]:
        """The values of `table`'s keys found in `text` (longest phrase first). A single word must be
        about as long as its key: a short or long word sharing a stem is another word ("can" is not
        "canadá", "gateando" is not "gato")."""
        words = [w for w in WORD_RE.findall(US_RE.sub(" eeuu ", fold(text)))]
        word_stems = [stem(w) for w in words]
        longest = max((len(k) for k in table), default=0)
        out, i = [], 0
        while i < len(word_stems):
            for n in range(min(longest, len(word_stems) - i), 0, -1):
                key = tuple(word_stems[i : i + n])
                hit = table.get(key)
                if hit and (
                    n > 1
                    or (
                        words[i] not in ES_STOPWORDS  # "para" is no form of "parar"
                        and self.lengths[key] - 2 <= len(words[i]) <= self.lengths[key] + 3
                    )
                ):
                    out.append(hit)
                    i += n
                    break
            else:
                i += 1
        return out

    def english(self, text: str) -> str:
        """The English corpus words for the glossary terms in `text`."""
        return " ".join(self._matches(self.terms, text))

    def absent_topics(self, text: str) -> list[tuple[str, str]]:
        """(Spanish label, English words) of each topic in `text` that the corpus has no source for."""
        return list({label: (label, english) for label, english in self._matches(self.absent, text)}.values())


def english_of(glossary: Glossary, text: str) -> str:
    """The English words a question stands for: its own when written in English (a Spanish reply was
    asked for with `lang`), else its glossary terms."""
    if detect_lang(text) == "en":
        return text
    # place names are no corpus vocabulary, but "¿es legal en España?" is a question about Spain's law
    parts = [glossary.english(text), *dict.fromkeys(english_rules.place_names(text))]
    return " ".join([*parts, spanglish_english(text)]).strip()


def spanglish_english(text: str) -> str:
    """The English words of a Spanglish question ("hay dosing charts online pa kratom, are those
    legit?"): with two or more English function words, its words that are no Spanish word."""
    words = WORD_RE.findall(fold(text))
    if sum(w in EN_WORDS for w in words) < 2:
        return ""
    return " ".join(w for w in words if w not in ES_STOPWORDS and w not in ES_WORDS)


class DocIndex:
    """Which document each chunk belongs to, for ranking documents by their best chunk in numpy."""

    def __init__(self, chunks: list[Chunk]):
        self.names = sorted({c.doc_id for c in chunks})
        position = {d: i for i, d in enumerate(self.names)}
        self.of_chunk = np.asarray([position[c.doc_id] for c in chunks], dtype=np.int64)

    def ranking(self, scores: np.ndarray, n: int, positive: bool = True) -> list[str]:
        """Documents in order of their best chunk's score (top n; with `positive`, only scores > 0)."""
        if not len(self.names):
            return []
        best = np.full(len(self.names), -np.inf)
        np.maximum.at(best, self.of_chunk, np.asarray(scores, dtype=np.float64))
        if positive:
            best[best <= 0] = -np.inf
        top = np.argsort(-best, kind="stable")[:n]
        return [self.names[i] for i in top if best[i] > -np.inf]


def _with_parts(words: list[str], stemmer: Any) -> frozenset[str]:
    """A line's stems and, for a compound, its parts' ("buprenorfina-naloxona" also names
    "buprenorfina"): a question rarely writes the compound."""
    return frozenset(words) | {stemmer(part) for w in words if "-" in w for part in w.split("-") if part}


def _idf(texts: list[frozenset[str]]) -> dict[str, float]:
    """Inverse document frequency of each stem over the Spanish lines (or their English twins)."""
    df: dict[str, int] = {}
    for words in texts:
        for w in words:
            df[w] = df.get(w, 0) + 1
    n = len(texts) or 1
    return {w: float(np.log((n + 1) / (k + 0.5))) for w, k in df.items()}


ES_DENSE_FLOOR = 0.5  # with no word of the question in any line or glossary term, a line must be this close
MODES = ("bm25_es", "dense_es", "bridge_bm25_en", "dense_en")
DEFAULT_MODES = ("bm25_es", "dense_es", "bridge_bm25_en")  # best on the dev set (bench/spanish_retrieval.py)
# all-MiniLM-L6-v2 is an English model: its ranking of Spanish text counts a quarter in the fusion.
# (Counting the glossary bridge double raised hit@5 a little on the dev sets but chose worse bottom
# lines: measured 2026-11-30, dev bottom-line hit 0.81 -> 0.74.)
MODE_WEIGHTS = {"bm25_es": 1.0, "dense_es": 0.25, "bridge_bm25_en": 1.0, "dense_en": 0.5}
# Reciprocal-rank constant of the Spanish fusion. With the English index's 60, a document at rank 15 in
# all three rankings beat one first in two ("narcan sin receta" led with a survey of prescription-opioid
# users). Measured 2026-12-01 on spanish_questions / spanish_dev hit@5 (bench/spanish_retrieval.py):
# k=60, dense 0.5: .957/.885; k=4, dense 0.25: .971/.902 (the best of k in 2..60 on both sets).
RRF_K = 4


class SpanishSearch:
    """Documents for a Spanish question, returned as their Spanish lines (Passage per line)."""

    def __init__(
        self,
        retriever: Retriever,
        glossary: Glossary,
        top_k: int = 5,
        modes: tuple[str, ...] = DEFAULT_MODES,
        cache_dir: Path | None = None,
    ):
        self.retriever, self.glossary, self.top_k, self.modes = retriever, glossary, top_k, modes
        self.cache_dir = cache_dir
        self._covering: dict[tuple, set[str]] = {}
        self._lock = threading.Lock()
        self._version = -1

    def _load(self) -> None:
        r = self.retriever
        with self._lock:
            if self._version == r.version:
                return
            self.chunks: list[Chunk] = list(r.es_chunks)
            self.matrix = r.es_matrix
            self.bm25 = (
                BM25([tokenize_es(embedding_text(c)) + sorted(frames(c.heading)) for c in self.chunks])
                if self.chunks
                else None
            )
            self.en_bm25 = (
                BM25([tokenize_en_stems(embedding_text(c)) for c in r.chunks]) if r.chunks else None
            )
            self.es_docs, self.en_docs = DocIndex(self.chunks), DocIndex(r.chunks)
            # every English stem the corpus says (chunks hold each section's whole text)
            self.en_vocabulary = frozenset(self.en_bm25.idf) if self.en_bm25 else frozenset()
            self._covering = {}
            self._rows = {c.chunk_id: i for i, c in enumerate(self.chunks)}
            # per line, once per index: its stems and whether it may be quoted at all
            self.text_stems = [_with_parts(tokenize_es(c.text), stem) for c in self.chunks]
            self.twin_stems = [_with_parts(tokenize_en_stems(c.twin), en_stem) for c in self.chunks]
            self.heading_stems = [frozenset(tokenize_es(c.heading)) | frames(c.heading) for c in self.chunks]
            self.es_idf, self.en_idf = _idf(self.text_stems), _idf(self.twin_stems)
            # each section's English heading (the English chunk its line opens), for the glossary English
            en_sections: dict[str, list[Chunk]] = {}
            for e in r.chunks:
                en_sections.setdefault(e.doc_id, []).append(e)
            self.heading_en_stems = [
                frozenset(
                    tokenize_en_stems(
                        next(
                            (e.heading for e in en_sections.get(c.doc_id, []) if e.text.startswith(c.twin)),
                            "",
                        )
                    )
                )
                if _line_kind(c) == "bottom_line"
                else frozenset()
                for c in self.chunks
            ]
            self.quotable = [
                not (
                    sentence_problems(c.text)
                    or sentence_problems(c.twin)
                    or english_rules.CAVEAT_ONLY_RE.search(c.twin)
                )
                for c in self.chunks
            ]
            # Section headings, embedded once per index (cached on disk): a section leads an answer
            # when its heading is close to the question, as in the English composer.
            headings = sorted({c.heading for c in self.chunks if _line_kind(c) == "bottom_line"})
            vectors = cached_vectors(r.encoder, headings, self.cache_dir, "headings_es")
            self.heading_vector = {h: vectors[i] for i, h in enumerate(headings)}
            # documents with a section that says what kratom is ("¿Qué es el kratom, según la DEA?")
            self.defining = {c.doc_id for c in self.chunks if defines_kratom(c.heading)}
            self.by_doc: dict[str, list[int]] = {}
            for i, c in enumerate(self.chunks):
                self.by_doc.setdefault(c.doc_id, []).append(i)
            self._version = r.version

    def rankings(
        self, query: str, vector: np.ndarray, modes: tuple[str, ...] = MODES, n: int = 20
    ) -> dict[str, list[str]]:
        """Each mode's document ranking (`search` fuses its modes; bench/spanish_retrieval.py measures all)."""
        self.retriever._maybe_reload()
        self._load()
        out: dict[str, list[str]] = {m: [] for m in MODES}
        if not self.chunks:
            return out
        r = self.retriever
        if "bm25_es" in modes:
            # a question's frame meets the headings of its kind: "¿Qué es la mitraginina?" finds the
            # sections that define (dev hit@5 +1 item, no other change on the three sets, 2026-12-01)
            q = tokenize_es(query) + sorted(frames(query))
            out["bm25_es"] = self.es_docs.ranking(self.bm25.get_scores(q), n) if q and self.bm25 else []
        if "dense_es" in modes:
            out["dense_es"] = self.es_docs.ranking(self.matrix @ vector, n, positive=False)
        if "bridge_bm25_en" in modes and self.en_bm25:
            en_tokens = tokenize_en_stems(english_of(self.glossary, query))  # the subject alone ranks nothing
            out["bridge_bm25_en"] = (
                self.en_docs.ranking(self.en_bm25.get_scores(en_tokens), n) if en_tokens else []
            )
        if "dense_en" in modes and len(r.chunks):
            out["dense_en"] = self.en_docs.ranking(r.matrix @ vector, n, positive=False)
        return out

    def search(self, query: str, vector: np.ndarray, k: int | None = None) -> list[Passage]:
        """The Spanish lines of the top-k documents, best document first. [] ("not covered") only when no
        word of the question is in a Spanish line or a glossary term found in the English index, and the
        question's vector is near neither the Spanish lines nor, by the English floor, the English chunks."""
        rankings = self.rankings(query, vector, self.modes)
        fused = self.fused(query, vector, rankings)
        docs = fused[: k or self.top_k]
        if asks_what_kratom_is(query) and self.defining:
            # "qué onda, qué es el kratom?? lo vi en una tienda de vapes": the shop words must not
            # outrank the agency overviews that say what kratom is
            defining = sorted(self.defining, key=lambda d: fused.index(d) if d in fused else len(fused))
            docs = list(dict.fromkeys([*defining, *docs]))[: k or self.top_k]
        foci = english_rules.detect_foci(english_of(self.glossary, query))
        if foci:  # "and the kidneys?": near documents whose English addresses the focus join (the composer keeps to them)
            covering = self.covering(foci)
            near = fused[: 2 * (k or self.top_k)] + rankings.get("bridge_bm25_en", [])[: k or self.top_k]
            if not covering & set(docs):
                docs += [d for d in dict.fromkeys(near) if d in covering and d not in docs][:2]
        out = self.passages_of(docs, vector)
        if not out or rankings.get("bm25_es") or rankings.get("bridge_bm25_en"):
            return out
        r = self.retriever
        english_best = float((r.matrix @ vector).max()) if len(r.chunks) else 0.0
        close = max(p.similarity for p in out) >= ES_DENSE_FLOOR or english_best >= r.floor
        return out if close else []

    def fused(
        self, query: str, vector: np.ndarray, rankings: dict[str, list[str]] | None = None
    ) -> list[str]:
        """Documents with Spanish lines, best first: the modes' rankings fused by weighted reciprocal rank."""
        rankings = rankings if rankings is not None else self.rankings(query, vector, self.modes)
        fused: dict[str, float] = {}
        for mode in self.modes:
            for rank, d in enumerate(rankings.get(mode, [])):
                fused[d] = fused.get(d, 0.0) + MODE_WEIGHTS[mode] / (RRF_K + rank + 1)
        return [d for d, _ in sorted(fused.items(), key=lambda kv: -kv[1]) if d in self.by_doc]

    def covering(self, foci: list[english_rules.Focus]) -> set[str]:
        """Documents whose English text (any section, not only the translated lines) english_rules.addresses a focus."""
        key = (self.retriever.version, tuple(f.name for f in foci))
        if key not in self._covering:
            self._covering[key] = {
                c.doc_id
                for c in self.retriever.chunks
                if any(english_rules.addresses(f, c.text, c.heading) for f in foci)
            }
        return self._covering[key]

    def passages_of(self, doc_ids: list[str], vector: np.ndarray) -> list[Passage]:
        """Each document's Spanish lines as passages, in the order given."""
        n = len(doc_ids)
        return [
            Passage(self.chunks[i], score=float(n - rank), similarity=float(self.matrix[i] @ vector))
            for rank, d in enumerate(doc_ids)
            for i in self.by_doc.get(d, [])
        ]

    def row(self, chunk_id: str) -> int:
        return self._rows[chunk_id]

    @property
    def available(self) -> bool:
        """True when the index holds Spanish lines (else a Spanish turn is answered from the English)."""
        self.retriever._maybe_reload()
        self._load()
        return bool(self.chunks)

    def invoke(self, request: dict) -> Draft:
        """The composer's request ({question, vector, passages, last, lines}) answered from the Spanish lines."""
        return compose_spanish(
            self,
            request["question"],
            request["last"],
            request["vector"],
            request["passages"],
            request["lines"],
        )


# IDF a question's heading words are measured against beyond their own: one common word is no match
OVERLAP_PRIOR = 1.0


@lru_cache(maxsize=65536)
def _holds(heading: frozenset[str], word: str) -> bool:
    """The heading has the word, or a stem one is the start of the other ("prohibi" of "prohibió" and
    "prohib" of "prohibido": Snowball stems some accented past tenses apart)."""
    return word in heading or (
        len(word) >= 5 and any(len(h) >= 5 and (h.startswith(word) or word.startswith(h)) for h in heading)
    )


def _weighted_overlap(
    words: AbstractSet[str], heading: AbstractSet[str], idf: dict[str, float]
) -> float | None:
    """The share of the question's heading vocabulary (by IDF) that this heading holds: words no
    candidate heading has ("Montevideo", "mi primo") weigh nothing, words every candidate has (the
    agency all of one document's headings name) little. None when no word is in any candidate heading."""
    known = [w for w in words if w in idf]
    if not known:
        return None
    return sum(idf[w] for w in known if _holds(frozenset(heading), w)) / (
        sum(idf[w] for w in known) + OVERLAP_PRIOR
    )


def _candidate_idf(headings: list[frozenset[str]], words: AbstractSet[str]) -> dict[str, float]:
    """IDF of the question's words over the candidate headings (the retrieved documents' sections)."""
    n = len(headings)
    df = {w: sum(1 for h in headings if _holds(h, w)) for w in words}
    return {w: float(np.log(1 + n / k)) for w, k in df.items() if k}


@lru_cache(maxsize=4)
def load_glossary(path: str) -> Glossary:
    return Glossary.load(Path(path))


# ---- the Spanish answer ------------------------------------------------------------------

FOCUS_LABELS_ES = {
    "hair_test": "las pruebas de cabello",
    "detection_window": "cuánto tiempo se puede detectar el kratom",
    "strains": "las variedades de kratom (vena roja, verde o blanca)",
    "brands": "marcas o vendedores concretos",
    "shelf_life": "la caducidad o el almacenamiento de los productos de kratom",
    "hair_loss": "la caída del cabello",
    "blood_sugar": "el azúcar en la sangre o la diabetes",
    "hormones": "la tiroides, la testosterona u otras hormonas",
    "menstrual": "la menstruación (la regla)",
    "alcohol": "el alcohol",
    "benzodiazepines": "las benzodiacepinas",
    "drug_test": "las pruebas de drogas",
    "buprenorphine": "la buprenorfina (Suboxone)",
    "breastfeeding": "la lactancia",
    "withdrawal_duration": "cuánto dura la abstinencia",
    "antidepressants": "los antidepresivos",
    "caffeine": "la cafeína",
    "gabapentin": "la gabapentina",
    "tramadol": "el tramadol",
    "kava": "la kava",
    "sexual": "la disfunción eréctil o la salud sexual",
    "fertility": "la fertilidad",
    "sports": "el deporte y los atletas",
    "pets": "las mascotas",
    "uk": "el Reino Unido",
    "uk_law": "la ley en el Reino Unido",
    "australia": "Australia",
    "canada": "Canadá",
    "europe": "Europa",
    "who": "la OMS",
    "deaths": "las muertes",
    "liver": "el hígado",
    "heart": "el corazón",
    "kidney": "los riñones",
    "seizure": "las convulsiones",
    "pregnancy": "el embarazo",
    "salmonella": "la salmonela",
    "heavy_metals": "los metales pesados",
    "cannabis": "el cannabis",
}
MAX_FACTS, MAX_PER_DOC = 5, 3
# A key fact naming under this share of the question's words (IDF-weighted, `_word_share`) is padding:
# it only fills an answer with fewer than MIN_FACTS facts. Set on the spent spanish_blind6 review:
# the bullets it called filler ("how kratom is taken", street names, RiVive under an FDA question)
# name 0-0.07 of the question; the answering ones 0.1 and up, with some exceptions both ways.
FACT_SHARE_MIN, MIN_FACTS = 0.08, 2
HEADING_WORDS_WEIGHT = 0.5  # the heading's shared words (IDF-weighted, both languages) beside its cosine
HEADING_MIN = 1.0  # how closely a section's heading must match the question for its bottom line to lead
FACT_MIN_SIMILARITY = 0.45  # a line sharing no word with the question needs at least this cosine
# "¿Cómo lo dejo?", "¿qué hago?": the action itself is the bottom line (as HOW_TO_RE in English).
HOW_TO_ES_RE = re.compile(
    r"\b(?:que (?:hago|hacemos|debo hacer|puedo hacer|se hace)|a quien (?:llamo|llamar|acudo)|"
    r"(?:como|donde) (?:lo |la )?(?:dejo|dejar|puedo dejar|hago para dejar|consigo ayuda|busco ayuda|"
    r"pido ayuda|encuentro ayuda|reporto|denuncio)|ayudame|necesito ayuda)\b"
)
# A question that names an amount but asks another fact about it ("¿depende de la cantidad?", "¿en poca
# cantidad te activa y en mucha te seda?", "¿van subiendo la cantidad?"): as DOSE_FACT_RE in English, the
# answer is that fact from the passages, then the no-safe-dose line; not the no-safe-dose line alone.
DOSE_FACT_ES_RE = re.compile(
    r"\bdepend\w*|\bvaria\w*|\bdistint\w*|\bdiferent\w*|\bmisma cantidad\b|\bcuanto (?:dura|tarda)\b|"
    r"\btarda\w* en\b|\bhace efecto\b|\bvida media\b|\ben (?:poca|mucha|poquita)\b|"
    r"\b(?:poca|poquita|baja|pequena|alta|grande|mucha|mas|mayor|menor) (?:cantidad|dosis)\b|"
    r"\bdosis (?:bajas?|altas?|pequenas?|grandes?)\b|\brelacion\b|\bsubiendo\b|\baument\w*|"
    r"\b(?:toman|tomas|toma|usan) mas\b"
)
# ...unless it also asks what amount is safe, right or too much (DOSE_ADVICE_RE in English).
DOSE_ADVICE_ES_RE = re.compile(
    r"\bsegur\w*|\bdeb(?:o|e|eria|erian|en)\b|\bcuant(?:o|a|os|as) (?:puedo|debo|deberia|se puede|hay que|"
    r"tomar|es (?:mucho|demasiado|normal|seguro))\b|\bmaxim\w*|\bdemasiad\w*|\brecomend\w*|\bestablec\w*|"
    r"\boficial\w*|\bguia\w*|\btablas?\b|\bcharts?\b|\bletal\w*|\btoxic\w*|\bdosis normal\b"
)


def is_dose_fact_es(question: str) -> bool:
    """A Spanish question naming an amount asks another fact about it, not what amount is safe."""
    folded = fold(question)
    return bool(DOSE_FACT_ES_RE.search(folded)) and not DOSE_ADVICE_ES_RE.search(folded)


NALOXONE_ES_RE = re.compile(
    r"\b(?:narcan|naloxona)\b.*\b(?:sirve|funciona|ayuda|revierte|doy|dar|uso|usar|le doy)\b|"
    r"\b(?:sirve|funciona|ayuda|revierte)\b.*\b(?:narcan|naloxona)\b"
)


def _line_kind(chunk: Chunk) -> str:
    return "bottom_line" if "#es-b" in chunk.chunk_id else "key_fact"


@dataclass(frozen=True)
class Line:
    passage: Passage
    score: float
    row: int
    share: float = 1.0  # the IDF-weighted share of the question's words the line names (`_word_share`)

    @property
    def chunk(self) -> Chunk:
        return self.passage.chunk


def _standalone(twin: str) -> bool:
    return not english_rules.METADATA_RE.search(twin) and not english_rules.DANGLING_RE.search(
        YES_NO_RE.sub("", twin)
    )


def compose_spanish(
    search: SpanishSearch,
    question: str,
    last: str,
    vector: np.ndarray,
    passages: list[Passage],
    lines: dict[str, str],
) -> Draft:
    """The English answer's shape from Spanish lines only. Focus, action topics and dose-evidence are
    read from the question's glossary English (the rules of bot/focus.py); each line is judged by its
    English twin, and shown in Spanish under its document's citation."""
    english_last, english_query = english_of(search.glossary, last), english_of(search.glossary, question)
    foci = english_rules.detect_foci(english_last, english_query)
    dose_fact = english_rules.is_dose_evidence(english_last) and is_dose_fact_es(last)
    dose = english_rules.is_dose_evidence(english_last) and not dose_fact
    topics = english_rules.action_topics(english_last) or english_rules.action_topics(english_query)
    q_stems = set(tokenize_es(question))
    asked = _Asked(
        q_stems | frames(question),
        set(tokenize_es(last)) | frames(last),
        set(tokenize_en_stems(english_query)),
        set(tokenize_en_stems(english_last)),
    )
    doc_rank = {p.doc_id: i for i, p in reversed(list(enumerate(passages)))}
    doc_order = sorted(set(doc_rank), key=lambda d: doc_rank[d])
    heading_match: dict[str, float] = {}
    scored = _score_lines(search, passages, asked, heading_match)

    def addresses_focus(ln: Line) -> bool:
        return not foci or any(english_rules.addresses(f, ln.chunk.twin) for f in foci)

    if not foci and not dose and not dose_fact:
        foci = _absent_foci(search, last)  # an everyday topic no source covers ("¿y la anestesia?")
    focused = [ln for ln in scored if addresses_focus(ln)]
    if foci and not focused:
        # "Not covered" only when the English corpus lacks it too: documents whose English addresses
        # the focus beyond their translated lines are answered from their Spanish lines instead.
        # (SpanishSearch.search added such documents when none of the top ones addressed the focus)
        covering = search.covering(foci)
        focused = [ln for ln in scored if ln.passage.doc_id in covering]
        if not focused:
            return _not_covered(foci, scored, lines, topics)

    bottom: Line | None = None
    lead: list[str] = []
    actions: list[str] = []
    how_to = not dose and topics and (HOW_TO_ES_RE.search(fold(last)) or NALOXONE_ES_RE.search(fold(last)))
    if how_to and NALOXONE_ES_RE.search(fold(last)) and "overdose" in topics:
        topics = [
            "overdose",
            *[t for t in topics if t != "overdose"],
        ]  # "¿sirve el Narcan?": give it, call 911
    if how_to and lines.get(f"action_{topics[0]}"):
        lead.append(lines[f"action_{topics[0]}"])  # "¿cómo lo dejo?": the advice leads, the facts follow
        topics = topics[1:2]
    elif not dose:
        bottom = choose_bottom(search, focused, vector, heading_match, doc_order, last)
    facts = pick_facts(search, focused, bottom)
    if dose:
        lead.append(lines.get("no_safe_dose", ""))
        if english_rules.PAIN_RE.search(english_query):
            lead.append(lines.get("no_pain_trial", ""))
        actions.append(lines.get("dose_what_to_do", ""))
        if english_rules.TOO_MUCH_RE.search(english_last):
            actions.append(lines.get("action_overdose", ""))
    else:
        actions += [lines.get(f"action_{t}", "") for t in topics[:2]]
    after = [lines["dose_why"]] if dose and lines.get("dose_why") else []
    if dose_fact and lines.get("no_safe_dose"):
        after.append(lines["no_safe_dose"])  # the fact first, then what no authority has set
    return _render(bottom, facts, [x for x in lead if x], after, [a for a in actions if a], passages, lines)


def pick_facts(search: SpanishSearch, focused: list[Line], bottom: Line | None) -> list[Line]:
    """Up to MAX_FACTS key facts, best first: none repeating the bottom line or another fact, none
    dangling or study metadata, at most MAX_PER_DOC per document. A line that names almost none of the
    question's words (IDF-weighted, FACT_SHARE_MIN) only fills an answer that has fewer than
    MIN_FACTS: it shares the topic (kratom, an agency) but not what was asked."""
    usable = []
    for ln in focused:
        if bottom and ln.chunk.chunk_id == bottom.chunk.chunk_id:
            continue
        if (
            english_rules.METADATA_RE.search(ln.chunk.twin)
            or english_rules.DANGLING_RE.search(ln.chunk.twin)
            or DANGLING_ES_RE.search(ln.chunk.text)
        ):
            continue
        usable.append(ln)
    facts: list[Line] = []
    for on_question in (True, False):
        for ln in usable:
            if len(facts) >= (MAX_FACTS if on_question else MIN_FACTS):
                break
            if ln in facts or on_question != (ln.share >= FACT_SHARE_MIN):
                continue
            if _repeats(search, ln, [bottom, *facts] if bottom else facts):
                continue
            if sum(f.passage.doc_id == ln.passage.doc_id for f in facts) >= MAX_PER_DOC:
                continue
            if facts and ln.score < 0.5 * facts[0].score:
                break
            facts.append(ln)
    return sorted(facts, key=lambda ln: -ln.score)


def choose_bottom(
    search: SpanishSearch,
    focused: list[Line],
    vector: np.ndarray,
    heading_match: dict[str, float],
    doc_order: list[str],
    last: str = "",
) -> Line | None:
    """The line that leads: a section's bottom line when its heading matches the question (meaning
    and words), else the best line that stands on its own. (One function, so that
    bench/spanish_lead_oracle.py can see the candidates it chose from.)"""

    wh = asks_wh_es(last)
    if asks_what_kratom_is(last):  # the section that says what kratom is answers it, before any other
        defining = [
            ln for ln in focused if _line_kind(ln.chunk) == "bottom_line" and defines_kratom(ln.chunk.heading)
        ]
        if defining:
            return max(defining, key=lambda ln: ln.score)

    def heading_score(ln: Line) -> float:
        h = search.heading_vector.get(ln.chunk.heading)
        cos = float(h @ vector) if h is not None else 0.0
        return (
            cos
            + HEADING_WORDS_WEIGHT * heading_match.get(ln.chunk.chunk_id, 0.0)
            + 0.3 * ln.passage.similarity
            - 0.02 * doc_order.index(ln.passage.doc_id)
            - (WRONG_TYPE_PENALTY if wh and YES_NO_OPENER_ES_RE.match(ln.chunk.text) else 0.0)
        )

    candidates = [
        ln for ln in focused if _line_kind(ln.chunk) == "bottom_line" and _standalone(ln.chunk.twin)
    ]
    best = max(candidates, key=heading_score, default=None)
    if best is not None and heading_score(best) >= HEADING_MIN:
        return best
    return next((ln for ln in focused if _standalone(ln.chunk.twin)), None)


# A wh-question ("¿por qué...?", "al final qué pasó", "¿y cómo lo tratan...?") is not answered by "Sí:" or
# "No:" (bot/lead.py's wrong-type penalty in English). A written accent marks a question word anywhere
# ("y pa qué lo usa"); without one, "que" is usually a conjunction ("es verdad que...", "pero que
# aparezca...", "y que no le hace daño"), so an unaccented word counts only where the question opens.
WH_ACCENTED_RE = re.compile(r"\b(?:qué|cómo|cuánt[oa]s?|dónde|cuál(?:es)?|quién(?:es)?|cuándo)(?!\w)")
WH_OPENING_RE = re.compile(
    r"(?:^|¿\s*|\bal final\s+)(?:por que|para que|pa que|que|como|cuant[oa]s?|donde|cual(?:es)?|quien(?:es)?|cuando)\b"
)
# "Sí:", "No;", "Sí, en ratas:" (not "No hay...", nor the conditional "Si alguien...")
YES_NO_OPENER_ES_RE = re.compile(r"^(?:sí|si|no)(?:[,:;]|\s[^.:,;]{0,25}:)", re.IGNORECASE)
# The penalty is bot/lead.py's WRONG_TYPE_PENALTY, shared with English. Measured 2026-12-01 (bottom-line
# hit, blind4 / dev / questions / spent blind5): .500/.804/.677/.623 -> .519/.804/.692/.639; 0.3 moved more
# leads, one the wrong way.


# "¿Qué es el kratom?", "qué onda con el kratom", "q es eso del kratom", "what is kratom": the person asks
# what kratom itself is (not "¿qué es el 7-OH?", nor "¿qué es lo que hace el kratom?").
WHAT_KRATOM_RE = re.compile(
    r"(?<!\blo )\b(?:que (?:es|son)|que onda con|what(?:'s| is))\s+(?:el |la |eso (?:del? )?|esto (?:del? )?)?"
    r"(?:kratom|kratum|krato)\b"
)
DEFINES_KRATOM_RE = re.compile(r"^\W*que es el kratom\b")


def asks_what_kratom_is(question: str) -> bool:
    return bool(WHAT_KRATOM_RE.search(fold(question)))


def defines_kratom(heading: str) -> bool:
    """A section heading that asks what kratom is ("¿Qué es el kratom, según la FDA?")."""
    return bool(DEFINES_KRATOM_RE.match(fold(heading)))


def asks_wh_es(question: str) -> bool:
    """A Spanish wh-question (what, why, how, how many, where, which, who, when)."""
    return bool(WH_ACCENTED_RE.search(question.lower()) or WH_OPENING_RE.search(fold(question).strip()))


def _absent_foci(search: SpanishSearch, last: str) -> list[english_rules.Focus]:
    """The glossary's absent topics named in the latest turn that neither the English nor the Spanish
    text of the corpus says (a word the corpus says is a retrieval matter, not a gap)."""
    out = []
    for label, english in search.glossary.absent_topics(last):
        en_words = english.split()
        if any(en_stem(w) in search.en_vocabulary for w in en_words):
            continue
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in en_words) + r")", re.IGNORECASE)
        out.append(english_rules.Focus(f"absent_{en_words[0]}", label, pattern, pattern))
    return out[:2]


@dataclass(frozen=True)
class _Asked:
    """The question's words: Spanish stems and glossary-English stems, of the whole query and of the
    last turn (a follow-up's own words name what it asks: "¿y cómo se trata?")."""

    es: set[str]
    es_last: set[str]
    en: set[str]
    en_last: set[str]


def _heading_match(search: SpanishSearch, i: int, asked: _Asked, idf: tuple[dict, dict]) -> float:
    """How well a section's heading matches the question: in Spanish and, through the glossary, in
    English (the mean of the two when the question has words in both; the better of whole query and
    last turn in each)."""
    es_h, en_h = search.heading_stems[i], search.heading_en_stems[i]
    sides = []
    for words, heading, side_idf in (
        ((asked.es, asked.es_last), es_h, idf[0]),
        ((asked.en, asked.en_last), en_h, idf[1]) if en_h else ((), en_h, idf[1]),
    ):
        found = [v for v in (_weighted_overlap(w, heading, side_idf) for w in words) if v is not None]
        if found:
            sides.append(max(found))
    return sum(sides) / len(sides) if sides else 0.0


def _word_share(search: SpanishSearch, i: int, asked: _Asked) -> float:
    """The IDF-weighted share of the question's words that line `i` names: its Spanish words in the
    line, and its glossary English in the line's English twin: "receta" and "narcan" say what was asked,
    "EE. UU." or "FDA", which hundreds of lines name, little (bot/lead.py's word_share in English)."""
    found = total = 0.0
    for words, line, idf in (
        (asked.es, search.text_stems[i], search.es_idf),
        (asked.en, search.twin_stems[i], search.en_idf),
    ):
        for w in words:
            if w in idf:
                total += idf[w]
                found += idf[w] if w in line else 0.0
    return found / total if total else 0.0


def _score_lines(
    search: SpanishSearch, passages: list[Passage], asked: _Asked, heading_match: dict[str, float]
) -> list[Line]:
    """The lines that may be quoted, best first: meaning, shared words, document rank."""
    doc_rank = {p.doc_id: i for i, p in reversed(list(enumerate(passages)))}
    doc_order = sorted(set(doc_rank), key=lambda d: doc_rank[d])
    scored: list[Line] = []
    sections = sorted(
        {search.row(p.chunk.chunk_id) for p in passages if _line_kind(p.chunk) == "bottom_line"}
    )
    idf = (
        _candidate_idf([search.heading_stems[i] for i in sections], asked.es | asked.es_last),
        _candidate_idf([search.heading_en_stems[i] for i in sections], asked.en | asked.en_last),
    )
    for p in passages:
        c = p.chunk
        i = search.row(c.chunk_id)
        if not search.quotable[i]:
            continue
        q_stems = {w for w in asked.es if not w.startswith("_")}  # words, not the question's frames
        lex = len(q_stems & search.text_stems[i]) / len(q_stems) if q_stems else 0.0
        # the glossary English meets the line's English twin: "riñones" is "kidney" in "daño renal"
        lex_en = len(asked.en & search.twin_stems[i]) / len(asked.en) if asked.en else 0.0
        lex = max(lex, lex_en)
        heading_match[c.chunk_id] = (
            _heading_match(search, i, asked, idf) if _line_kind(c) == "bottom_line" else 0.0
        )
        if lex == 0 and p.similarity < FACT_MIN_SIMILARITY:
            continue  # shares no word with the question and is not close in meaning
        rank = doc_order.index(p.doc_id)
        share = _word_share(search, i, asked)
        scored.append(Line(p, p.similarity + 0.5 * lex + 0.15 / (1 + rank), i, share))
    return sorted(scored, key=lambda ln: -ln.score)


# "La bebé pasó por una abstinencia...": a section's answer that names its case only through its
# heading ("¿Qué le pasó a la bebé expuesta al kratom?") dangles as a bullet under another question.
DANGLING_ES_RE = re.compile(
    r"^(?:el|la) (?:beb[eé]|reci[eé]n nacid[oa]|paciente|joven|niñ[oa]|madre|padre|mujer|hombre|adolescente|"
    r"muchacha|muchacho|chica|chico)\b(?![^.]*\b(?:caso|informe|estudio|revisi[oó]n|encuesta|serie)\b)",
    re.IGNORECASE,
)
# A figure that is not a year ("91 de las 152", "el 0.7%", "6 de los 8"): two lines of one document with
# the same figures state the same finding, however differently worded.
FIGURE_RE = re.compile(r"(?<![\d.,])(?!(?:19|20)\d\d(?!\d))\d+(?:[.,]\d+)?")


# Two lines of one document that open with the same six words state the same finding. (Across documents
# it also dropped "La FDA no ha aprobado el 7-OH..." beside "...el kratom...": measured, not kept.)
OPENING_WORDS = 6


def _figures(text: str) -> frozenset[str]:
    """A line's figures, when they identify a finding: two or more, or a decimal ("0.7%"); one whole
    number alone ("988", "2 muertes") names too little."""
    found = frozenset(f.replace(",", ".") for f in FIGURE_RE.findall(text))
    return found if len(found) >= 2 or any("." in f for f in found) else frozenset()


def _repeats(search: SpanishSearch, ln: Line, chosen: list[Line]) -> bool:
    """The line says again what a chosen line says: close in meaning, most words shared, nearly all its
    words inside the other (bot/compose.py's CONTAINED, on the Spanish stems and on the English twins),
    or, from the same document, the same figures."""
    toks, twin = search.text_stems[ln.row], search.twin_stems[ln.row]
    figures = _figures(ln.chunk.twin)
    for other in chosen:
        o_toks = search.text_stems[other.row]
        if (
            float(search.matrix[ln.row] @ search.matrix[other.row]) > 0.82
            or len(toks & o_toks) / max(1, len(toks | o_toks)) > 0.5
            or is_contained(toks, [o_toks])
            or is_contained(twin, [search.twin_stems[other.row]])
        ):
            return True
        if ln.passage.doc_id != other.passage.doc_id:
            continue
        o_figures = _figures(other.chunk.twin)
        if figures and o_figures and (figures <= o_figures or o_figures <= figures):
            return True
        opening = _opening(ln.chunk.text)
        if opening is not None and opening == _opening(other.chunk.text):
            return True  # "El dolor muscular fue el síntoma de abstinencia del kratom más frecuente..." twice
    return False


def _opening(text: str) -> tuple[str, ...] | None:
    """A line's first OPENING_WORDS words (stems, stopwords kept); None for a shorter line."""
    words = stems(text, drop_stopwords=False)[:OPENING_WORDS]
    return tuple(words) if len(words) == OPENING_WORDS else None


def _group_order(facts: list[Line], bottom: Line | None, passages: list[Passage]) -> list[Line]:
    """Facts grouped by document: the bottom line's document, then agencies, newest, best ranked."""
    rank = {p.doc_id: i for i, p in reversed(list(enumerate(passages)))}
    groups: dict[str, list[Line]] = {}
    for ln in facts:
        groups.setdefault(ln.passage.doc_id, []).append(ln)

    def key(doc_id: str):
        c = groups[doc_id][0].chunk
        first = bottom is not None and bottom.passage.doc_id == doc_id
        return (
            not first,
            not any(a in c.publisher for a in AGENCIES),
            -int(c.year or 0),
            rank.get(doc_id, 99),
        )

    return [ln for d in sorted(groups, key=key) for ln in sorted(groups[d], key=lambda x: x.chunk.chunk_id)]


def _render(
    bottom: Line | None,
    facts: list[Line],
    lead: list[str],
    after: list[str],
    actions: list[str],
    passages: list[Passage],
    lines: dict[str, str],
    not_covered: str = "",
    facts_heading: str = "",
) -> Draft:
    """The answer's parts (bot/render.py writes them, the Sources and the disclaimer in the reply's language)."""
    ordered = _group_order(facts, bottom, passages)
    used_passages = [ln.passage for ln in ([bottom] if bottom else []) + ordered]
    numbers = number_documents(used_passages)
    return Draft(
        message=" ".join(lead),
        bottom_line=Fact(bottom.chunk.text, numbers[bottom.passage.doc_id]) if bottom else None,
        notes=list(after),
        facts_heading=facts_heading or lines["key_facts"],
        facts=[Fact(ln.chunk.text, numbers[ln.passage.doc_id]) for ln in ordered],
        actions_heading=lines["what_you_can_do"],
        actions=list(actions),
        citations=citations_for(used_passages, numbers),
        cited_passages=cited_passages_for(passages, numbers),
        not_covered=not_covered,
    )


def _label_es(focus: english_rules.Focus) -> str:
    """What the Spanish "not covered" line names: "el alcohol", "la ley en España"."""
    if focus.name in FOCUS_LABELS_ES:
        return FOCUS_LABELS_ES[focus.name]
    if focus.kind in ("place", "state"):
        return f"la ley en {english_rules.SPANISH_PLACE.get(focus.place.removeprefix('the '), focus.place)}"
    return focus.label


def _not_covered(
    foci: list[english_rules.Focus], scored: list[Line], lines: dict[str, str], topics: list[str]
) -> Draft:
    """Say by name what the sources lack (the English documents too); one general safety fact; who can help."""
    focus = foci[0]
    label = " y ".join(_label_es(f) for f in foci[:2])
    head = lines["not_covered_focus"].format(topic=label)
    fact = []
    if focus.kind == "topic":
        # the closest *general* fact, from a health agency only: one study's finding is no general fact
        # ("Ramathibodi Poison Center" made a withdrawal symptom the "closest safety fact" for a thyroid
        # question, Behonick's two deaths from mitragynine alone one for "¿kratom y kava son lo mismo?"),
        # nor is a "Yes:"/"No:" answer to its own section's question
        fact = [
            ln
            for ln in scored
            if SAFETY_RE.search(ln.chunk.twin)
            and _standalone(ln.chunk.twin)
            and not YES_NO_RE.match(ln.chunk.twin)
            and any(a in ln.chunk.publisher for a in AGENCIES)
        ][:1]
    place = english_rules.SPANISH_PLACE.get(focus.place.removeprefix("the "), focus.place)
    who = {
        "pet": lines.get("not_covered_who_pet", ""),
        "place": lines.get("not_covered_who_law", "").format(topic=place),
        "state": lines.get("not_covered_who_state", "").format(topic=place),
    }.get(focus.kind, lines.get("not_covered_who", ""))
    actions = [who] + ([lines.get(f"action_{topics[0]}", "")] if topics and focus.kind == "topic" else [])
    return _render(
        None,
        fact,
        [head],
        [],
        [a for a in actions if a],
        [ln.passage for ln in fact],
        lines,
        not_covered=focus.name,
        facts_heading=lines["not_covered_closest"],
    )
