"""Everything a chat turn needs, loaded once per process and shared by all users."""

from __future__ import annotations

from functools import cached_property

from bot.embedding import Encoder, load_encoder
from bot.index import Index, open_index
from bot.retrieval import Retriever
from bot.settings import Settings


class Services:
    def __init__(self, settings: Settings, encoder: Encoder | None = None):
        self.settings = settings
        self._encoder = encoder

    @cached_property
    def encoder(self) -> Encoder:
        return self._encoder or load_encoder(self.settings.embedding_model)

    @cached_property
    def index(self) -> Index:
        return open_index(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.index, self.encoder, self.settings.top_k, self.settings.relevance_floor)
