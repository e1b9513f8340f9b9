"""Answer composition. `Composer` is a LangChain Runnable: {"question", "vector", "passages"} ->
Draft, so an LLM-based composer can replace the default without touching the rest.

`ExtractiveComposer` (default, offline): every sentence of an answer is a sentence of a
retrieved passage, chosen by similarity to the question (sentence vectors are computed once
per index, never per turn), de-duplicated, and followed by its document's citation number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig

from bot.citations import citations_for, number_documents
from bot.embedding import Encoder, cached_vectors
from bot.focus import (
    CAVEAT_ONLY_RE,
    DANGLING_RE,
    EFFICACY_RE,
    HOW_TO_RE,
    METADATA_RE,
    NALOXONE_Q_RE,
    PAIN_RE,
    SHORT_ANSWER,
    TOO_MUCH_RE,
    Focus,
    action_topics,
    addresses,
    asked_label,
    bare_place_foci,
    detect_foci,
    is_dose_evidence,
    is_dose_fact,
)
from bot.gaps import FILLER, GapFinder
from bot.lead import (
    DOSE_ANSWER_RE,
    PHONE_RE,
    RARE_WORD_WEIGHT,
    YES_OPENER_RE,
    answer_type_bonus,
    asked_service,
    asks_yes_no,
    content_words,
    heading_match,
    lead_penalty,
    list_bonus,
    stem_weights,
    word_share,
)
from bot.retrieval import STOPWORDS, tokenize
from bot.types import Chunk, Citation, Fact, Passage
from bot.vector_cache import ShippedVectors
from guardrails.output_checks import sentence_problems

log = logging.getLogger(__name__)

ABBREVIATIONS = (
    "U.S.",
    "U.K.",
    "EE. UU.",
    "Dr.",
    "e.g.",
    "i.e.",
    "et al.",
    "vs.",
    "No.",
    "Vol.",
    "approx.",
    "Jan.",
    "Feb.",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
    "St.",
    "Inc.",
    "Mr.",
    "Ms.",
)
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(“])")
MIN_WORDS, MAX_WORDS = 5, 70
MAX_FACTS = 5
# A key fact must be near the question (FACT_QUESTION_MIN) or near the bottom line (FACT_LEAD_MIN):
# a sentence that is neither was picked for a shared word, not for what was asked.
FACT_QUESTION_MIN, FACT_LEAD_MIN = 0.45, 0.4
CONTAINED = 0.8  # share of the shorter sentence's words inside a chosen one that makes it a repeat


def is_contained(tokens: AbstractSet[str], chosen: Iterable[AbstractSet[str]]) -> bool:
    """A sentence whose words are nearly all (CONTAINED) inside one already chosen repeats it; the
    Spanish composer (bot/spanish.py) asks the same of its lines."""
    return any(len(tokens & t) / max(1, min(len(tokens), len(t))) > CONTAINED for t in chosen)


# A section's short answer to its own heading ("Yes, ", "No: ", "Yes, in mice: ", "It may: ").
YES_NO_RE = re.compile(rf"^{SHORT_ANSWER}\s*", re.IGNORECASE)
# A section's short answer ("No: ...") answers its own heading: it stands only when that heading asks
# what was asked, as a yes/no question, the same way round ("Is every kratom product the same strength?"
# is near "does the strength differ between brands?", but its "No" answers the opposite question).
NO_OPENER_RE = re.compile(r"^no\b", re.IGNORECASE)
SAME_RE = re.compile(r"\b(?:same|identical|alike|every|all)\b", re.IGNORECASE)
DIFFER_RE = re.compile(r"\b(?:differ\w*|vary|varies|varied|variation)\b", re.IGNORECASE)


def opposite_way_round(heading: str, question: str) -> bool:
    """The heading asks whether things are the same and the question whether they differ, or the
    reverse: a "Yes"/"No" to one is the opposite answer to the other."""
    return bool(
        (SAME_RE.search(heading) and DIFFER_RE.search(question) and not DIFFER_RE.search(heading))
        or (DIFFER_RE.search(heading) and SAME_RE.search(question) and not DIFFER_RE.search(question))
    )


BOTTOM_LINE_MIN = 0.8  # how closely a section's question heading must match the question for it to lead
# Without such a heading, a section's opening answer may still lead when its heading is near the
# question (ANSWER_MIN; a bare "Yes:"/"No:" answer needs 0.1 more), with a small lead over other sentences.
ANSWER_MIN, ANSWER_LEAD = 0.55, 0.05
ASK_LAST_WEIGHT = 0.5
AGENCY_LEAD = 0.03  # two sections asking the same question: the health agency's answer leads  # in a follow-up, the latest turn's share of what the bottom line must answer
SAFETY_RE = re.compile(
    r"\b(?:risk|serious|harm\w*|death|deaths|breathing|interact\w*|not approved|unknown|overdose|sedat\w*|"
    r"dangerous|poison)\b",
    re.IGNORECASE,
)
# Publishers whose word a worried reader weighs first (grouped ahead of single studies).
AGENCIES = (
    "Food and Drug",
    "Centers for Disease",
    "National Institute",
    "Substance Abuse",
    "Drug Enforcement",
    "Health and Human",
    "World Health",
    "Agency for Healthcare",
    "Health Resources",
    "National Center",
    "LiverTox",
    "Texas Department",
)


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


def without_short_answer(s: Sentence) -> Sentence:
    """The sentence without the short answer that opens it ("No: the mitragynine content varied
    16-fold" -> "The mitragynine content varied 16-fold"), for a question its heading does not ask;
    still word for word in its passage. Unchanged when nothing would be left to stand on its own."""
    if not YES_OPENER_RE.match(s.text) and not NO_OPENER_RE.match(s.text):
        return s  # a hedged answer ("Rarely:", "Possibly:") says how much, not which way
    rest = YES_NO_RE.sub("", s.text, count=1)
    if rest == s.text or len(rest.split()) < MIN_WORDS or DANGLING_RE.search(rest):
        return s
    return Sentence(s.chunk_id, s.position, rest[0].upper() + rest[1:], s.row)


@dataclass
class Draft:
    """A composed answer as parts (chat.py copies them into the `Reply`; bot/render.py writes them)."""

    message: str = ""  # uncited policy lines that lead
    bottom_line: Fact | None = None
    notes: list[str] = field(default_factory=list)  # uncited policy lines after the bottom line
    facts_heading: str = ""
    facts: list[Fact] = field(default_factory=list)
    actions_heading: str = ""
    actions: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    cited_passages: dict[int, str] = field(default_factory=dict)  # what the grounding check reads
    not_covered: str = ""  # the focus the sources do not address, if any
    looked_up: list[Passage] = field(default_factory=list)  # cited passages retrieval did not return

    @property
    def cited(self) -> list[Fact]:
        return ([self.bottom_line] if self.bottom_line else []) + self.facts

    @property
    def uncited(self) -> list[str]:
        """The policy lines (checked apart: no amounts, instructions, markup or links)."""
        return [
            x
            for x in (self.message, *self.notes, self.facts_heading, self.actions_heading, *self.actions)
            if x
        ]

    def __bool__(self) -> bool:
        return bool(self.message or self.cited or self.actions)


class Composer(Runnable[dict, Draft]):
    """Interface: invoke({"question": str, "vector": np.ndarray, "passages": [Passage]}) -> Draft."""

    def invoke(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Draft:  # noqa: A002
        raise NotImplementedError


def cited_passages_for(passages: list[Passage], numbers: dict[str, int]) -> dict[int, str]:
    """Citation number -> all retrieved passage text of that document (what the output check reads)."""
    out: dict[int, list[str]] = {}
    for p in passages:
        if p.doc_id in numbers:
            out.setdefault(numbers[p.doc_id], []).append(_joined_sentences(p.chunk.text))
    return {n: "\n".join(texts) for n, texts in out.items()}


@lru_cache(maxsize=4096)
def _joined_sentences(text: str) -> str:
    """A passage's sentences on one line (split once per chunk text, not on every turn)."""
    return " ".join(split_sentences(text))


def sentence_table(
    chunks: list[Chunk],
) -> tuple[dict[str, list[Sentence]], list[str], dict[str, int], list[str]]:
    """Every chunk's sentences and every question-style heading, in chunk-id order.

    Question-style section headings ("Is kratom safe?"): a section whose heading matches the
    question leads with its bottom-line sentence."""
    sentences: dict[str, list[Sentence]] = {}
    texts: list[str] = []
    heading_row: dict[str, int] = {}
    headings: list[str] = []
    for chunk in sorted(chunks, key=lambda c: c.chunk_id):
        rows = []
        for pos, s in enumerate(split_sentences(chunk.text)):
            rows.append(Sentence(chunk.chunk_id, pos, s, len(texts)))
            texts.append(s)
        sentences[chunk.chunk_id] = rows
        if chunk.heading.strip().endswith("?"):
            heading_row[chunk.chunk_id] = len(headings)
            headings.append(chunk.heading.strip())
    return sentences, texts, heading_row, headings


def precompute_vectors(
    encoder: Encoder,
    chunks: list[Chunk],
    cache_dir: Path,
    progress: bool = False,
    shipped: ShippedVectors | None = None,
) -> None:
    """Ingest time: encode the composer's sentence and heading vectors into the cache beside the
    index, so no server start pays for them (a no-op when they are cached already). Texts the
    corpus's shipped vector cache (`shipped`) holds are taken from it, not encoded."""
    _, texts, _, headings = sentence_table(chunks)
    cached_vectors(encoder, texts, cache_dir, "sentences", progress, shipped)
    cached_vectors(encoder, headings, cache_dir, "headings", progress, shipped)


class ExtractiveComposer(Composer):
    def __init__(
        self,
        encoder: Encoder,
        chunks: list[Chunk],
        cache_dir: Path | None = None,
        words: int = 150,
        progress: bool = False,
    ):
        self.words = words
        self.encoder = encoder
        self.sentences, texts, self.heading_row, headings = sentence_table(chunks)
        self.matrix = cached_vectors(encoder, texts, cache_dir, "sentences", progress)
        self.heading_matrix = cached_vectors(encoder, headings, cache_dir, "headings", progress)
        self.gaps = GapFinder(encoder, chunks, self.matrix, cache_dir)
        self.headings_by_chunk = {c.chunk_id: c.heading for c in chunks}
        self.chunks_by_id = {c.chunk_id: c for c in chunks}
        self.stem_weights = stem_weights(texts)  # how much a question word says (bot/lead.py)

    def select(
        self,
        question: str,
        vector: np.ndarray,
        passages: list[Passage],
        budget: int | None = None,
        eligible=None,
    ) -> list[tuple[Sentence, Passage]]:
        budget = budget or self.words
        q_tokens = set(tokenize(question)) - {"kratom"}
        scored: list[tuple[float, Sentence, Passage, int]] = []
        for rank, p in enumerate(passages):
            for s in self.sentences.get(p.chunk.chunk_id, []):
                n_words = len(s.text.split())
                if n_words < MIN_WORDS or n_words > MAX_WORDS or sentence_problems(s.text):
                    continue  # planted instructions, markup, links, amounts are never quoted
                if eligible is not None and not eligible(s, p):
                    continue
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
            if is_contained(tokens, seen_tokens):
                continue  # its words are nearly all inside a longer sentence already chosen
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
        if "lines" in input:  # the answer path: bottom line, key facts, what you can do, sources
            return self.compose_answer(input)
        return self._paragraph(input)

    def _paragraph(self, input: dict) -> Draft:  # noqa: A002
        """Cited facts in one paragraph (the facts shown under a dosing refusal)."""
        question, vector, passages = input["question"], input["vector"], input["passages"]
        picked = self.select(question, vector, passages, input.get("words"))
        if not picked:
            return Draft()
        used_passages = []
        for _, p in picked:
            if p not in used_passages:
                used_passages.append(p)
        numbers = number_documents(used_passages)
        return Draft(
            facts=[Fact(s.text, numbers[p.doc_id]) for s, p in picked],
            citations=citations_for(used_passages, numbers),
            cited_passages=cited_passages_for(passages, numbers),
        )

    # ---- the answer shape (issue #12) -----------------------------------------------------

    def compose_answer(self, input: dict) -> Draft:  # noqa: A002
        question, vector, passages = input["question"], input["vector"], input["passages"]
        lines: dict[str, str] = input["lines"]
        last = input.get("last") or question
        foci = detect_foci(last, question) or bare_place_foci(last, STOPWORDS | FILLER)
        dose_fact = is_dose_fact(last)  # answered from the passages; the no-safe-dose line follows
        dose = is_dose_evidence(last) and not dose_fact
        topics = action_topics(last) or action_topics(question)

        def eligible(s: Sentence, p: Passage) -> bool:
            if CAVEAT_ONLY_RE.search(s.text):
                return False
            return not foci or any(addresses(f, s.text, p.chunk.heading) for f in foci)

        picked = self.select(question, vector, passages, input.get("words"), eligible)
        if foci and not picked:
            if not self._corpus_addresses(foci, passages):
                return self._not_covered(foci, question, vector, passages, lines, topics, last)
            foci = []  # a retrieval miss, not a gap: answer from what was retrieved
            picked = self.select(question, vector, passages, input.get("words"), eligible)
        if not dose:  # a named focus may sit beside a thing no passage names ("milk thistle" and the liver)
            rows = [s.row for p in passages for s in self.sentences.get(p.chunk.chunk_id, [])]
            gaps = self.gaps.find(last, vector, passages, rows)
            # a word that names the focus itself ("hepatology" beside the liver) is addressed with it
            gaps = [g for g in gaps if not any(f.question.search(g.word) for f in foci)]
            if gaps:  # the question names a thing no retrieved passage addresses
                named = " or ".join(g.word for g in gaps[:2])
                gap = Focus("gap", named, re.compile(re.escape(gaps[0].word)), re.compile("(?!)"))
                return self._not_covered([gap], question, vector, passages, lines, topics, last)

        last_vector = self._last_vector(question, last, input.get("last_vector"))
        asked = self._asked_vector(vector, question, last, last_vector)
        words = content_words(last)
        yes_no = asks_yes_no(last)
        bottom: tuple[Sentence, Passage] | None = (
            None if dose else self._bottom_line(asked, passages, eligible, last_vector, words, yes_no, last)
        )
        if not dose and NALOXONE_Q_RE.search(last) and "overdose" in topics:
            topics = [
                "overdose",
                *[t for t in topics if t != "overdose"],
            ]  # "does Narcan work?": give it, call 911
        service = None if dose else self._service_lead(asked_service(last), passages)
        looked_up: list[Passage] = []
        if service is not None:  # "is there a hotline?": the line's number leads, cited to its agency
            bottom = service
            if service[1] not in passages:
                looked_up = [service[1]]
                passages = [*passages, service[1]]
        how_to = (
            service is None
            and not dose
            and topics
            and (HOW_TO_RE.search(last) or NALOXONE_Q_RE.search(last))
            and lines.get(f"action_{topics[0]}")
        )
        if how_to:  # no section answers "how do I...": the advice leads, the facts follow
            return self._draft(
                None,
                self._facts(picked, None, vector, words),
                [lines[f"action_{topics[0]}"]],
                [],
                [lines.get(f"action_{t}", "") for t in topics[1:2] if lines.get(f"action_{t}")],
                passages,
                lines,
            )
        if not dose and PAIN_RE.search(last) and EFFICACY_RE.search(last) and lines.get("no_pain_trial"):
            # a section that asks what was asked ("Does kratom work for chronic pain?") answers first,
            # when its answer speaks of pain
            if bottom is not None and not PAIN_RE.search(bottom[0].text):
                bottom = None
            return self._draft(
                bottom,
                self._facts(picked, bottom, vector, words),
                [] if bottom else [lines["no_pain_trial"]],
                [lines["no_pain_trial"]] if bottom else [],
                [lines.get(f"action_{t}", "") for t in topics[:1] if lines.get(f"action_{t}")],
                passages,
                lines,
            )
        if bottom is None and not dose:
            bottom = self._closest_answer(asked, passages, picked, eligible, last_vector, words, yes_no, last)
        lead_uncited: list[str] = []
        if dose:
            lead_uncited = [lines.get("no_safe_dose", "")]
            if PAIN_RE.search(question):
                lead_uncited.append(lines.get("no_pain_trial", ""))
            # a section that asks this very dose question ("Does this study show how much kratom is
            # safe?") answers first; the no-safe-dose line follows it
            bottom = self._dose_answer(asked, passages, eligible, last_vector, words, yes_no)
        facts = self._facts(picked, bottom, vector, words)
        actions: list[str] = []
        if dose:
            actions.append(lines.get("dose_what_to_do", ""))
            if TOO_MUCH_RE.search(last):
                actions.append(lines.get("action_overdose", ""))
        else:
            actions += [lines.get(f"action_{t}", "") for t in topics[:2]]
        notes = [lines["dose_why"]] if dose and lines.get("dose_why") else []
        if bottom is not None and dose:
            notes, lead_uncited = [x for x in lead_uncited if x] + notes, []
        if dose_fact and lines.get("no_safe_dose"):
            notes.append(lines["no_safe_dose"])
        draft = self._draft(
            bottom,
            facts,
            [x for x in lead_uncited if x],
            notes,
            [a for a in actions if a],
            passages,
            lines,
        )
        draft.looked_up = looked_up
        return draft

    def _corpus_addresses(self, foci: list[Focus], passages: list[Passage]) -> bool:
        """A place the corpus does address, in a section that was not retrieved ("and in California?"
        after a federal question): a retrieval miss, not a gap, so no "not covered" line. Places only:
        the topic foci's sentence patterns are written for the retrieved sections."""
        places = [f for f in foci if f.name.endswith("_law") or f.name.startswith("place_")]
        retrieved = {p.chunk.chunk_id for p in passages}
        return bool(places) and any(
            addresses(f, s.text, self.headings_by_chunk.get(cid, ""))
            for cid, rows in self.sentences.items()
            if cid not in retrieved
            for s in rows
            for f in places
        )

    def _last_vector(self, question: str, last: str, last_vector: np.ndarray | None) -> np.ndarray | None:
        """The latest turn's vector in a follow-up (None for a one-turn question): a section heading
        may match it on its own (bot/lead.py)."""
        if not last or last.strip() == question.strip():
            return None
        return last_vector if last_vector is not None else self.encoder.encode_one(last)

    def _asked_vector(
        self, vector: np.ndarray, question: str, last: str, last_vector: np.ndarray | None = None
    ) -> np.ndarray:
        """What the bottom line must answer. In a follow-up ("did they add it in 2026?") the search
        query folds in the earlier turn; the latest turn is weighed in too, so the bottom line answers
        what was just asked rather than the earlier question. `last_vector`: the latest turn's vector
        from the turn's one forward pass (chat.py); without it, one short encode (follow-ups only)."""
        if not last or last.strip() == question.strip() or ASK_LAST_WEIGHT == 0:
            return vector
        if last_vector is None:
            last_vector = self.encoder.encode_one(last)
        mixed = vector + ASK_LAST_WEIGHT * last_vector
        return mixed / (np.linalg.norm(mixed) or 1.0)

    def _bottom_line(
        self,
        vector: np.ndarray,
        passages: list[Passage],
        eligible,
        last_vector: np.ndarray | None = None,
        words: frozenset[str] | set[str] = frozenset(),
        yes_no: bool = True,
        asked_text: str = "",  # the latest turn, as asked (bot/lead.py `list_bonus`)
    ) -> tuple[Sentence, Passage] | None:
        """The first sentence of the best question-style section, when that section answers the question."""
        best, best_score = None, 0.0
        for rank, row, s, p in self._section_answers(passages, eligible):
            heading_sim = heading_match(self.heading_matrix[row], vector, last_vector)
            if YES_NO_RE.match(s.text) and (not yes_no or opposite_way_round(p.chunk.heading, asked_text)):
                s = without_short_answer(s)  # its "Yes"/"No" answers another question
            score = (
                heading_sim
                + 0.3 * float(self.matrix[s.row] @ vector)
                - 0.02 * rank
                + RARE_WORD_WEIGHT * word_share(set(words), s.text, self.stem_weights, p.chunk.heading)
                - lead_penalty(s.text, yes_no)
                + list_bonus(asked_text, s.text)
                + answer_type_bonus(asked_text, s.text)
                + AGENCY_LEAD * any(a in p.chunk.publisher for a in AGENCIES)
            )
            if heading_sim >= BOTTOM_LINE_MIN and score > best_score:
                best, best_score = (s, p), score
        return best

    def _dose_answer(
        self, asked, passages, eligible, last_vector, words, yes_no
    ) -> tuple[Sentence, Passage] | None:
        """A dose-evidence question's own section ("Does this study show how much kratom is safe?"):
        its opener leads only when it speaks of amounts and does not open with "Yes" (a "Yes" answers the
        section's heading and could read as "yes, there is a safe amount")."""

        def about_amounts(s: Sentence, p: Passage) -> bool:
            return eligible(s, p) and bool(DOSE_ANSWER_RE.search(s.text)) and not YES_OPENER_RE.match(s.text)

        return self._bottom_line(asked, passages, about_amounts, last_vector, words, yes_no)

    def _section_answers(self, passages: list[Passage], eligible) -> list[tuple[int, int, Sentence, Passage]]:
        """(retrieval rank, heading row, first sentence, passage) of the top retrieved question sections whose
        opening sentence may lead an answer ("Yes, ..." / "No, ..." is fine: it answers the heading)."""
        out = []
        for rank, p in enumerate(passages[:5]):
            row = self.heading_row.get(p.chunk.chunk_id)
            sentences = self.sentences.get(p.chunk.chunk_id, [])
            if row is None or not sentences:
                continue
            s = sentences[0]
            if (
                MIN_WORDS <= len(s.text.split()) <= MAX_WORDS
                and not sentence_problems(s.text)
                and eligible(s, p)
                and not METADATA_RE.search(s.text)
                and not DANGLING_RE.search(YES_NO_RE.sub("", s.text))
            ):
                out.append((rank, row, s, p))
        return out

    def _closest_answer(
        self,
        vector: np.ndarray,
        passages: list[Passage],
        picked: list[tuple[Sentence, Passage]],
        eligible,
        last_vector: np.ndarray | None = None,
        words: frozenset[str] | set[str] = frozenset(),
        yes_no: bool = True,
        asked_text: str = "",  # the latest turn, as asked (bot/lead.py `list_bonus`)
    ) -> tuple[Sentence, Passage] | None:
        """No section heading matches the question closely: the sentence closest to the question that
        stands on its own, from the picked sentences and the plain answers that open the retrieved
        question sections (those are written to answer, so they get a small lead)."""

        def form(s: Sentence, heading: str = "") -> float:  # the question's words named, less a leaning form
            share = word_share(set(words), s.text, self.stem_weights, heading)
            return (
                RARE_WORD_WEIGHT * share
                - lead_penalty(s.text, yes_no)
                + list_bonus(asked_text, s.text)
                + answer_type_bonus(asked_text, s.text)
            )

        scored: list[tuple[float, Sentence, Passage]] = [
            (float(self.matrix[s.row] @ vector) + form(s), s, p)
            for s, p in picked
            if not METADATA_RE.search(s.text) and not DANGLING_RE.search(YES_NO_RE.sub("", s.text))
        ]
        for _, row, s, p in self._section_answers(passages, eligible):
            heading_sim = heading_match(self.heading_matrix[row], vector, last_vector)
            if heading_sim >= (ANSWER_MIN + 0.1 if YES_NO_RE.match(s.text) else ANSWER_MIN):
                # a section opener answers its heading: the heading's match counts as the sentence's
                sim = max(float(self.matrix[s.row] @ vector), heading_sim)
                scored.append((sim + ANSWER_LEAD + form(s, p.chunk.heading), s, p))
        best = max(scored, key=lambda x: x[0], default=None)
        # No heading asks what was asked, so a section's short answer ("No, the review stresses that
        # there are no controlled studies..." to "is suboxone a thing people use?") answers another
        # question: the sentence leads without it.
        return (without_short_answer(best[1]), best[2]) if best else None

    def _service_lead(self, doc_id: str | None, passages: list[Passage]) -> tuple[Sentence, Passage] | None:
        """The first sentence of the agency document `doc_id` that gives its phone number, with its
        passage (the retrieved one when retrieval found that section, else the section itself)."""
        if doc_id is None:
            return None
        retrieved = {p.chunk.chunk_id: p for p in passages}
        for chunk_id, rows in sorted(self.sentences.items()):
            chunk = self.chunks_by_id.get(chunk_id)
            if chunk is None or chunk.doc_id != doc_id:
                continue
            for s in rows:
                if (
                    PHONE_RE.search(s.text)
                    and MIN_WORDS <= len(s.text.split()) <= MAX_WORDS
                    and not sentence_problems(s.text)
                    and not DANGLING_RE.search(s.text)
                ):
                    return s, retrieved.get(chunk_id) or Passage(chunk, score=0.0, similarity=0.0)
        return None

    def _facts(
        self,
        picked: list[tuple[Sentence, Passage]],
        bottom: tuple[Sentence, Passage] | None,
        vector: np.ndarray | None = None,
        words: frozenset[str] | set[str] = frozenset(),
    ) -> list[tuple[Sentence, Passage]]:
        """3-5 facts: no repeat of the bottom line, no sentence without its antecedent, and (given the
        question's `vector`) none that is far from both the question and the bottom line: a sentence
        picked for a shared word ("tea" in a drug-interaction study, on "how do people take kratom?")."""
        chosen = {(s.chunk_id, s.position) for s, _ in picked}
        out: list[tuple[Sentence, Passage]] = []
        for s, p in picked:
            if vector is not None and self._off_question(s, bottom, vector, words):
                continue
            if bottom and (
                s.row == bottom[0].row or float(self.matrix[s.row] @ self.matrix[bottom[0].row]) > 0.82
            ):
                continue
            if DANGLING_RE.search(s.text) and (s.chunk_id, s.position - 1) not in chosen:
                continue
            if METADATA_RE.search(s.text):
                continue  # who studied what: the sources list says it
            out.append((s, p))
        return out[:MAX_FACTS]

    def _off_question(
        self,
        s: Sentence,
        bottom: tuple[Sentence, Passage] | None,
        vector: np.ndarray,
        words: frozenset[str] | set[str] = frozenset(),
    ) -> bool:
        """Far from what was asked and from the answer's bottom line (`FACT_QUESTION_MIN`, `FACT_LEAD_MIN`),
        and naming none of the question's content `words` (stems, bot/lead.py `content_words`)."""
        if float(self.matrix[s.row] @ vector) >= FACT_QUESTION_MIN:
            return False
        if word_share(set(words), s.text, self.stem_weights) > 0:
            return False  # "seizures" on "kratom seizures, real thing?": on the question, in other words
        if bottom is None:
            return float(self.matrix[s.row] @ vector) < FACT_LEAD_MIN
        return float(self.matrix[s.row] @ self.matrix[bottom[0].row]) < FACT_LEAD_MIN

    def _draft(self, bottom, facts, lead_uncited, after_lead, actions, passages, lines) -> Draft:
        groups: dict[str, list[tuple[Sentence, Passage]]] = {}
        for s, p in facts:
            groups.setdefault(p.doc_id, []).append((s, p))
        rank = {p.doc_id: i for i, p in reversed(list(enumerate(passages)))}

        def group_key(doc_id: str):
            c = groups[doc_id][0][1].chunk
            first = bottom is not None and bottom[1].doc_id == doc_id
            agency = any(a in c.publisher for a in AGENCIES)
            return (not first, not agency, -int(c.year or 0), rank.get(doc_id, 99))

        ordered: list[tuple[Sentence, Passage]] = []
        for doc_id in sorted(groups, key=group_key):
            ordered += sorted(
                groups[doc_id], key=lambda sp: (rank.get(sp[1].doc_id, 99), sp[0].chunk_id, sp[0].position)
            )
        used_passages = [p for _, p in ([bottom] if bottom else []) + ordered]
        numbers = number_documents(used_passages)
        return Draft(
            message=" ".join(lead_uncited),
            bottom_line=Fact(bottom[0].text, numbers[bottom[1].doc_id]) if bottom else None,
            notes=list(after_lead),
            facts_heading=lines["key_facts"],
            facts=[Fact(s.text, numbers[p.doc_id]) for s, p in ordered],
            actions_heading=lines["what_you_can_do"],
            actions=list(actions),
            citations=citations_for(used_passages, numbers),
            cited_passages=cited_passages_for(passages, numbers),
        )

    def _not_covered(self, foci: list[Focus], question, vector, passages, lines, topics, last="") -> Draft:
        """Say by name what the sources lack; one general safety fact marked as such; who can help."""
        focus = foci[0]
        label = " and ".join(dict.fromkeys(asked_label(f, last, question) for f in foci[:2]))
        head = lines["not_covered_focus"].format(topic=label)
        fact: list[tuple[Sentence, Passage]] = []
        if focus.kind == "topic":

            def general(s: Sentence, p: Passage) -> bool:
                return (
                    bool(SAFETY_RE.search(s.text))
                    and not CAVEAT_ONLY_RE.search(s.text)
                    and not METADATA_RE.search(s.text)
                    and not DANGLING_RE.search(s.text)
                )

            fact = self.select(question, vector, passages, 1, general)[:1]
        who = {
            "pet": lines.get("not_covered_who_pet", ""),
            "place": lines.get("not_covered_who_law", "").format(topic=focus.place or focus.label),
            "state": lines.get("not_covered_who_state", "").format(topic=focus.place or focus.label),
        }.get(focus.kind, lines.get("not_covered_who", ""))
        numbers = number_documents([p for _, p in fact])
        actions = [who] + ([lines.get(f"action_{topics[0]}", "")] if topics and focus.kind == "topic" else [])
        return Draft(
            message=head,
            facts_heading=lines["not_covered_closest"],
            facts=[Fact(s.text, numbers[p.doc_id]) for s, p in fact],
            actions_heading=lines["what_you_can_do"],
            actions=[a for a in actions if a],
            citations=citations_for([p for _, p in fact], numbers),
            cited_passages=cited_passages_for(passages, numbers),
            not_covered=focus.name,
        )
