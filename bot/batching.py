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
When the turn is encoded on its own (`parallel_head`) on a machine with a free core, the tuned
top layers run on a second thread while the base model's top layers finish the retrieval vectors
(`Encoder.encode_routed`).

Otherwise (a batch of concurrent turns, or a busy machine, where a second thread gains nothing)
the pass is staged: the base model's lower layers, then the tuned top layers and the router's
vote, then `needed(votes)` (chat.py: the route) says whether the turn wants its retrieval
vectors at all; only the turns that do run the base model's top layers. An urgent, refused or
declined turn costs the lower layers and the router's layers, no more, and a follow-up's
conversation text (read by the router only) never runs the base model's top layers.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from bot.embedding import Encoder
from guardrails.model import ModelVote

Needed = Callable[[list[ModelVote] | None], bool]


class TurnVectors(NamedTuple):
    vector: np.ndarray | None  # the query's; None when `needed` said the turn does not want it
    votes: list[ModelVote] | None  # the router model's, one per conversation text
    extra: list[np.ndarray]  # one per extra text (empty when the vector is None)


class _Item(NamedTuple):
    text: str
    conversations: tuple[str, ...] | None
    extra: tuple[str, ...]
    future: Future
    needed: Needed | None = None


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
        vector = self._submit(text, None, ()).vector
        assert vector is not None  # nothing asked whether it is needed
        return vector

    def encode_turn(
        self,
        query: str,
        conversations: list[str],
        extra: tuple[str, ...] = (),
        needed: Needed | None = None,
    ) -> TurnVectors:
        """The retrieval vector of `query`, the router model's votes on `conversations` (its
        readings of the turn, bot/intent.py classifier_inputs) and the vectors of `extra`, in one
        forward pass. `needed(votes)`, when given, may be asked once the votes are known whether
        the turn wants the vectors; when it says no they are not computed (vector None, no
        extra). It may also not be asked (the vectors come with the votes): callers decide again."""
        return self._submit(
            query,
            tuple(conversations) if self.intent is not None and conversations else None,
            tuple(extra),
            needed,
        )

    def _submit(
        self,
        text: str,
        conversations: tuple[str, ...] | None,
        extra: tuple[str, ...],
        needed: Needed | None = None,
    ) -> TurnVectors:
        item = _Item(text, conversations, extra, Future(), needed)
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
        elif self._stageable() and (head is None or _busy()):
            return self._encode_staged(batch)
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

    def _stageable(self) -> bool:
        """The plain-torch model (bot/minilm.py), whose layers can run in two parts."""
        return getattr(self.encoder._model, "light", False) and hasattr(self.encoder.bert, "run_layers")

    def _lower(self, texts: list[str]):
        """(hidden state after the router's split layer, attention mask) of `texts`, one padded batch."""
        bert = self.encoder.bert
        features = self.encoder._model.preprocess(texts)
        mask = features["attention_mask"]
        hidden = bert.embeddings(features["input_ids"], features.get("token_type_ids"))
        return bert.run_layers(hidden, mask, 0, self.intent.split), mask

    def _encode_staged(self, batch: list[_Item]) -> list[TurnVectors]:
        """The batch in stages (module docstring): router first, base top layers only for the turns
        that want vectors. Each text's numbers are those of `Encoder.encode_routed`'s pass."""
        import torch

        from bot.embedding import mean_pool

        bert, split = self.encoder.bert, self.intent.split
        states: dict[str, torch.Tensor] = {}  # text -> its real tokens' hidden state after `split`
        votes_of: dict[str, ModelVote] = {}
        conversations = list(dict.fromkeys(c for item in batch for c in item.conversations or ()))
        with torch.inference_mode():
            if conversations:
                hidden, mask = self._lower(conversations)
                votes_of = dict(zip(conversations, self.intent.votes(hidden, mask)))
                states.update(_unpadded(conversations, hidden, mask))
        answers: list[tuple[list[ModelVote] | None, bool]] = []
        wanted: list[str] = []
        for item in batch:
            votes = [votes_of[c] for c in item.conversations] if item.conversations is not None else None
            needed = item.needed is None or bool(item.needed(votes))
            answers.append((votes, needed))
            if needed:
                wanted += [x for x in (item.text, *item.extra) if x not in wanted]
        fresh = [x for x in wanted if x not in states]
        vectors: dict[str, np.ndarray] = {}
        with torch.inference_mode():
            if fresh:
                hidden, mask = self._lower(fresh)
                states.update(_unpadded(fresh, hidden, mask))
            if wanted:
                hidden, mask = _padded([states[x] for x in wanted])
                top = bert.run_layers(hidden, mask, split)
                pooled = torch.nn.functional.normalize(mean_pool(top, mask), dim=-1)
                vectors = dict(zip(wanted, pooled.numpy().astype(np.float32)))
        with self.encoder._lock:
            self.encoder.texts_encoded += len(states)
            self.encoder.forward_passes += 1
        return [
            TurnVectors(
                vectors[item.text] if needed else None,
                votes,
                [vectors[x] for x in item.extra] if needed else [],
            )
            for item, (votes, needed) in zip(batch, answers)
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


def _busy() -> bool:
    """No core to spare (1-minute load average): a second thread would only queue for one."""
    try:
        return os.getloadavg()[0] >= (os.cpu_count() or 1) - 0.5
    except OSError:  # no load average on this platform
        return False


def _unpadded(texts: list[str], hidden, mask) -> dict:
    """Each text's real tokens' rows of a right-padded batch."""
    lengths = mask.sum(1).tolist()
    return {t: hidden[i, : int(n)] for i, (t, n) in enumerate(zip(texts, lengths))}


def _padded(states: list):
    """Right-padded batch (zeros under the mask) and its attention mask from unpadded states."""
    import torch

    length = max(s.shape[0] for s in states)
    hidden = states[0].new_zeros(len(states), length, states[0].shape[-1])
    mask = torch.zeros(len(states), length, dtype=torch.long)
    for i, s in enumerate(states):
        hidden[i, : s.shape[0]] = s
        mask[i, : s.shape[0]] = 1
    return hidden, mask
