"""Share one forward pass among concurrent turns.

`BatchingEncoder.encode_one` puts the text on a queue; a worker thread takes everything that
is waiting (no added delay when idle) and encodes it as a single batch. Under load, requests
that arrive while a batch runs form the next batch, so 32 concurrent turns cost a few forward
passes instead of 32. With several workers (one per core, each forward pass on one torch
thread) batches run side by side instead of fighting over OpenMP threads. When nothing runs and
nothing waits, the calling thread encodes its own text (what an idle worker would do, without
the hand-over to another thread).

`encode_turn(query, conversations, extra)` also returns the router model's votes: the
conversation texts ride in the same forward pass (a one-turn conversation is the query itself),
and the model's tuned top layers run on their hidden states (`bot/intent.py`); `extra` texts
(a follow-up's last turn, which the composer weighs in) get their vectors from that pass too.
When the turn is encoded on its own (`parallel_head`), the tuned top layers run on a second
thread while the base model's top layers finish the retrieval vectors (`Encoder.encode_routed`).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from bot.embedding import Encoder
from guardrails.model import ModelVote


class TurnVectors(NamedTuple):
    vector: np.ndarray  # the query's
    votes: list[ModelVote] | None  # the router model's, one per conversation text
    extra: list[np.ndarray]  # one per extra text


class _Item(NamedTuple):
    text: str
    conversations: tuple[str, ...] | None
    extra: tuple[str, ...]
    future: Future


class BatchingEncoder:
    def __init__(
        self,
        encoder: Encoder,
        max_batch: int = 32,
        workers: int = 1,
        intent=None,
        parallel_head: bool = False,
    ):
        self.encoder = encoder
        self.intent = intent  # bot.intent.IntentHead on this encoder's base model, or None
        self.max_batch = max_batch
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._slots = threading.Semaphore(max(1, workers))  # forward passes running at once
        self._state = threading.Lock()
        self._running = 0  # forward passes running or about to
        self._head = ThreadPoolExecutor(1, thread_name_prefix="router-head") if parallel_head else None
        self._threads = [
            threading.Thread(target=self._run, name=f"encode-batcher-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for t in self._threads:
            t.start()

    def __getattr__(self, name: str):  # dimension, model_name, counters, encode(...)
        return getattr(self.encoder, name)

    def encode_one(self, text: str) -> np.ndarray:
        return self._submit(text, None, ()).vector

    def encode_turn(self, query: str, conversations: list[str], extra: tuple[str, ...] = ()) -> TurnVectors:
        """The retrieval vector of `query`, the router model's votes on `conversations` (its
        readings of the turn, bot/intent.py classifier_inputs) and the vectors of `extra`, in one
        forward pass."""
        return self._submit(
            query, tuple(conversations) if self.intent is not None and conversations else None, tuple(extra)
        )

    def _submit(
        self, text: str, conversations: tuple[str, ...] | None, extra: tuple[str, ...]
    ) -> TurnVectors:
        item = _Item(text, conversations, extra, Future())
        with self._state:
            idle = self._running == 0 and self._queue.empty()
            if idle:
                self._running += 1
        if idle:  # nothing runs and nobody waits: encode here, no hand-over
            try:
                with self._slots:
                    return self._encode([item], self._head)[0]
            finally:
                with self._state:
                    self._running -= 1
        self._queue.put(item)
        return item.future.result()

    def _encode(self, batch: list[_Item], head: ThreadPoolExecutor | None = None) -> list[TurnVectors]:
        if all(item.conversations is None and not item.extra for item in batch):  # plain texts
            vectors = self.encoder.encode([item.text for item in batch], batch_size=len(batch))
            return [TurnVectors(v, None, []) for v in vectors]
        texts: list[str] = []
        row: dict[str, int] = {}
        for item in batch:
            for x in (item.text, *(item.conversations or ()), *item.extra):
                if x not in row:
                    row[x] = len(texts)
                    texts.append(x)
        votes: list[ModelVote] = []
        if self.intent is None or all(item.conversations is None for item in batch):
            vectors = self.encoder.encode(texts, batch_size=len(texts))
        else:
            wanted = [row[c] for item in batch for c in (item.conversations or ())]
            vectors, votes = self.encoder.encode_routed(texts, self.intent, wanted, head)
        each = iter(votes)
        return [
            TurnVectors(
                vectors[row[item.text]],
                [next(each) for _ in item.conversations] if item.conversations is not None else None,
                [vectors[row[x]] for x in item.extra],
            )
            for item in batch
        ]

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            with self._state:
                self._running += 1
            with self._slots:
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
                            item.future.set_result(self._encode([item])[0])
                        except Exception as exc:  # only this turn fails; the worker lives on
                            item.future.set_exception(exc)
                    results = []
                finally:
                    with self._state:
                        self._running -= 1
            for item, result in zip(batch, results):
                item.future.set_result(result)
