"""Everything a chat turn needs, loaded once per process and shared by all users."""

from __future__ import annotations

import contextlib
import logging
from functools import cached_property

from bot.batching import TurnVectors
from bot.embedding import Encoder, default_model_path, load_encoder
from bot.index import Index, open_index
from bot.retrieval import Retriever
from bot.settings import Settings
from guardrails import Policy, load_policy

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings, encoder: Encoder | None = None, progress: bool = False):
        self.settings = settings
        self._encoder = encoder
        self.progress = progress  # bars for slow one-time work (a missing sentence-vector cache)

    @cached_property
    def encoder(self) -> Encoder:
        return self._encoder or load_encoder(self.settings.embedding_model)

    @cached_property
    def query_encoder(self):
        """The encoder a turn uses: concurrent turns share forward passes (bot/batching.py).

        Torch runs each forward pass on one thread: workers run side by side, and a turn encoded
        on its own runs the router's tuned top layers on a second core (`parallel_head`). Two
        OpenMP threads per pass gain little on these short texts and cost several times over
        when the machine is busy."""
        import os

        import torch

        from bot.batching import BatchingEncoder

        workers = self.settings.encode_workers
        cores = os.cpu_count() or 1
        if workers > 1 or cores > 1:
            torch.set_num_threads(1)
        shared = self.router_base is self.encoder
        return BatchingEncoder(
            self.encoder,
            workers=workers,
            intent=self.intent if shared else None,
            parallel_head=shared and cores > 1,
        )

    @cached_property
    def router_base(self) -> Encoder:
        """The bundled all-MiniLM-L6-v2 the router model was tuned on: the turn encoder itself
        unless KQA_EMBEDDING_MODEL names another model (then the router runs its own pass)."""
        bundled = self.encoder.model_name == default_model_path()
        return self.encoder if bundled else load_encoder("")

    @cached_property
    def intent(self):
        """The router's trained top layers + head (bot/intent.py), or None before any training."""
        from bot.intent import IntentHead

        if not (self.policy.model_dir / "router.json").is_file():
            log.warning("no trained router model in %s: the rule floor decides alone", self.policy.model_dir)
            return None
        return IntentHead(self.router_base.bert, self.policy.model_dir)

    @cached_property
    def _vote_encoder(self):
        from bot.batching import BatchingEncoder

        return BatchingEncoder(self.router_base, intent=self.intent)

    def encode_turn(
        self, query: str, conversations: list[str], extra: tuple[str, ...] = (), needed=None
    ) -> TurnVectors:
        """The turn's retrieval vector, the router model's votes and the vectors of `extra` (a
        follow-up's last turn), in one forward pass when shared; `needed(votes)` may skip the
        vectors (bot/batching.py)."""
        if self.intent is None or self.router_base is self.encoder or not conversations:
            return self.query_encoder.encode_turn(query, conversations, extra, needed)
        vectors = self.query_encoder.encode_turn(query, [], extra)
        return vectors._replace(votes=self._vote_encoder.encode_turn(conversations[0], conversations).votes)

    @cached_property
    def index(self) -> Index:
        return open_index(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(
            self.index,
            self.encoder,
            self.settings.top_k,
            self.settings.relevance_floor,
            dense=self.settings.dense_search,
        )

    @cached_property
    def spanish(self):
        """Spanish retrieval over the same index (bot/spanish.py)."""
        from bot.spanish import SpanishSearch, load_glossary

        return SpanishSearch(
            self.retriever,
            load_glossary(str(self.settings.corpus_dir / "glossary_es.yaml")),
            self.settings.top_k,
            cache_dir=self.settings.data_dir / "cache",
        )

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.settings.policy_path)

    def warm(self, step=None) -> Services:
        """Load everything a turn needs now, not on the first user's turn.

        `step(label)`, when given, is a context manager around each stage (the CLI prints them)."""
        step = step or (lambda label: contextlib.nullcontext())
        if "encoder" not in self.__dict__:  # not loaded yet (a cached_property lives in __dict__)
            with step("Loading the embedding model"):
                _ = self.encoder
        with step("Loading the index and the router model"):
            _ = self.query_encoder, self.retriever, self.intent
        with step("Loading the answer composer (sentence vectors)"):
            _ = self.composer, self.safety_facts
        with step("Loading the Spanish lines"):
            _ = self.spanish.available  # the Spanish lines' search and heading vectors
        return self

    @cached_property
    def composer(self):
        from bot.compose import ExtractiveComposer

        return ExtractiveComposer(
            self.encoder,
            self.retriever.chunks,
            self.settings.data_dir / "cache",
            self.settings.answer_words,
            progress=self.progress,
        )

    @cached_property
    def safety_facts(self):
        """General safety facts offered with every dosing refusal: cited, composed once per process."""
        question = "no established safe dose of kratom; products vary in alkaloid content; more frequent use more harm"
        vector = self.encoder.encode_one(question)
        passages = self.retriever.search(question, vector)
        if not passages:
            return None
        draft = self.composer.invoke(
            {"question": question, "vector": vector, "passages": passages, "words": 60}
        )
        return draft if draft else None
