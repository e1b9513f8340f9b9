"""Share one forward pass among concurrent turns.

`BatchingEncoder.encode_one` puts the text on a queue; a worker thread takes everything that
is waiting (no added delay when idle) and encodes it as a single batch. Under load, requests
that arrive while a batch runs form the next batch, so 32 concurrent turns cost a few forward
passes instead of 32. With several workers (one per core, each forward pass on one torch
thread) batches run side by side instead of fighting over OpenMP threads.

`encode_turn(query, conversations)` also returns the router model's votes: the conversation
texts ride in the same forward pass (a one-turn conversation is the query itself), and the
model's tuned top layers run on their hidden states (`bot/intent.py`).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

import numpy as np

from bot.embedding import Encoder
from guardrails.model import ModelVote


class BatchingEncoder:
    def __init__(self, encoder: Encoder, max_batch: int = 32, workers: int = 1, intent=None):
        self.encoder = encoder
        self.intent = intent  # bot.intent.IntentHead on this encoder's base model, or None
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[str, tuple[str, ...] | None, Future]] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._run, name=f"encode-batcher-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for t in self._threads:
            t.start()

    def __getattr__(self, name: str):  # dimension, model_name, counters, encode(...)
        return getattr(self.encoder, name)

    def encode_one(self, text: str) -> np.ndarray:
        return self._submit(text, None)[0]

    def encode_turn(self, query: str, conversations: list[str]) -> tuple[np.ndarray, list[ModelVote] | None]:
        """The retrieval vector of `query` and the router model's votes on `conversations` (its
        readings of the turn, bot/intent.py classifier_inputs), in one forward pass."""
        return self._submit(
            query, tuple(conversations) if self.intent is not None and conversations else None
        )

    def _submit(self, text: str, conversations: tuple[str, ...] | None):
        future: Future = Future()
        self._queue.put((text, conversations, future))
        return future.result()

    def _encode(
        self, batch: list[tuple[str, tuple[str, ...] | None, Future]]
    ) -> list[tuple[np.ndarray, list[ModelVote] | None]]:
        if self.intent is None or all(c is None for _, c, _ in batch):
            vectors = self.encoder.encode([t for t, _, _ in batch], batch_size=len(batch))
            return [(v, None) for v in vectors]
        texts: list[str] = []
        row: dict[str, int] = {}
        for t, convs, _ in batch:
            for x in (t, *(convs or ())):
                if x not in row:
                    row[x] = len(texts)
                    texts.append(x)
        vectors, hidden, mask = self.encoder.encode_hidden(texts, self.intent.split)
        wanted = [row[c] for _, convs, _ in batch for c in (convs or ())]
        votes = iter(self.intent.votes(hidden[wanted], mask[wanted]))
        return [
            (vectors[row[t]], [next(votes) for _ in convs] if convs is not None else None)
            for t, convs, _ in batch
        ]

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                results = self._encode(batch)
            except Exception:  # one bad text must not fail its neighbours: retry one by one
                for item in batch:
                    try:
                        item[2].set_result(self._encode([item])[0])
                    except Exception as exc:  # only this turn fails; the worker lives on
                        item[2].set_exception(exc)
                continue
            for (_, _, f), result in zip(batch, results):
                f.set_result(result)
