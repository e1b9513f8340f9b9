"""Share one forward pass among concurrent turns.

`BatchingEncoder.encode_one` puts the text on a queue; a worker thread takes everything that
is waiting (no added delay when idle) and encodes it as a single batch. Under load, requests
that arrive while a batch runs form the next batch, so 32 concurrent turns cost a few forward
passes instead of 32. With several workers (one per core, each forward pass on one torch
thread) batches run side by side instead of fighting over OpenMP threads.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

import numpy as np

from bot.embedding import Encoder


class BatchingEncoder:
    def __init__(self, encoder: Encoder, max_batch: int = 32, workers: int = 1):
        self.encoder = encoder
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[str, Future]] = queue.Queue()
        self._threads = [threading.Thread(target=self._run, name=f"encode-batcher-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for t in self._threads:
            t.start()

    def __getattr__(self, name: str):  # dimension, model_name, counters, encode(...)
        return getattr(self.encoder, name)

    def encode_one(self, text: str) -> np.ndarray:
        future: Future = Future()
        self._queue.put((text, future))
        return future.result()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                vectors = self.encoder.encode([t for t, _ in batch], batch_size=len(batch))
            except Exception:  # one bad text must not fail its neighbours: retry one by one
                for text, f in batch:
                    try:
                        f.set_result(self.encoder.encode([text], batch_size=1)[0])
                    except Exception as exc:  # only this turn fails; the worker lives on
                        f.set_exception(exc)
                continue
            for (_, f), v in zip(batch, vectors):
                f.set_result(v)
