"""Everything a chat turn needs, loaded once per process and shared by all users."""

from __future__ import annotations

import logging
from functools import cached_property

import numpy as np

from bot.embedding import Encoder, cached_vectors, load_encoder
from bot.index import Index, open_index
from bot.retrieval import Retriever
from bot.settings import Settings
from guardrails import ExampleClassifier, Policy, load_policy

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings, encoder: Encoder | None = None):
        self.settings = settings
        self._encoder = encoder

    @cached_property
    def encoder(self) -> Encoder:
        return self._encoder or load_encoder(self.settings.embedding_model)

    @cached_property
    def query_encoder(self):
        """The encoder a turn uses: concurrent turns share forward passes (bot/batching.py)."""
        from bot.batching import BatchingEncoder

        workers = self.settings.encode_workers
        if workers > 1:
            import torch

            torch.set_num_threads(1)  # one core per forward pass; workers run side by side
        return BatchingEncoder(self.encoder, workers=workers)

    @cached_property
    def index(self) -> Index:
        return open_index(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.index, self.encoder, self.settings.top_k, self.settings.relevance_floor,
                         dense=self.settings.dense_search)

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.settings.policy_path)

    @cached_property
    def classifier(self) -> ExampleClassifier:
        p = self.policy
        return ExampleClassifier(p.examples, self.example_vectors(), p.classifier_k, p.classifier_model,
                                 p.classifier_regularisation)

    def warm(self) -> "Services":
        """Load everything a turn needs now, not on the first user's turn."""
        _ = self.encoder, self.query_encoder, self.retriever, self.classifier, self.composer, self.safety_facts
        return self

    @cached_property
    def composer(self):
        from bot.compose import ExtractiveComposer

        disclaimer = self.policy.render("disclaimer", "en", self.settings.locale)
        return ExtractiveComposer(self.encoder, self.retriever.chunks, self.settings.data_dir / "cache",
                                  self.settings.answer_words, disclaimer)

    @cached_property
    def safety_facts(self):
        """General safety facts offered with every dosing refusal: cited, composed once per process."""
        question = "no established safe dose of kratom; products vary in alkaloid content; more frequent use more harm"
        vector = self.encoder.encode_one(question)
        passages = self.retriever.search(question, vector)
        if not passages:
            return None
        draft = self.composer.invoke({"question": question, "vector": vector, "passages": passages,
                                      "words": 60, "disclaimer": False})
        return draft if draft.text else None

    def example_vectors(self) -> np.ndarray:
        """Embed the classifier's examples once; cached on disk by content and model."""
        from bot.query import build_query
        from bot.types import Conversation

        texts = [build_query(Conversation.from_openai([{"role": "user", "content": t} for t in e.turns])) if e.turns else e.text
                 for e in self.policy.examples]
        return cached_vectors(self.encoder, texts, self.settings.data_dir / "cache", "examples")
