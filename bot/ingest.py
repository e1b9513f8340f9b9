"""`kratom-qa ingest`: corpus -> chunks -> embeddings -> a new Chroma collection -> atomic switch
-> the composer's sentence vectors, cached beside the index (`<data_dir>/cache`).

Incremental: a document whose content hash (file bytes + chunker version + model) is
unchanged keeps its stored embeddings; changed documents are re-embedded, removed ones
are simply not copied. A document's Spanish lines (corpus/es/<id>.yaml) are a unit of their
own, hashed with the English file they pair with: editing the Spanish re-embeds only them.
Nothing is switched until the new collection is fully written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

from tqdm import tqdm

from bot.chunking import CHUNKER_VERSION, chunk_document, embedding_text
from bot.compose import precompute_vectors
from bot.corpus_es import load_spanish, spanish_chunks
from bot.corpus_loader import load_corpus
from bot.embedding import Encoder
from bot.index import Index, StoredChunk
from bot.settings import Settings
from bot.vector_cache import ShippedVectors

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    documents: int
    chunks: int
    added: int
    updated: int
    removed: int
    unchanged: int
    encoded_chunks: int
    seconds: float
    version: int
    switched: bool
    spanish_updated: int = 0  # documents whose Spanish lines were (re-)embedded
    from_cache: int = 0  # vectors (chunks, sentences, headings) read from corpus/vectors.npz, not encoded

    def summary(self) -> str:
        spanish = f", Spanish lines of {self.spanish_updated} re-embedded" if self.spanish_updated else ""
        shipped = f", {self.from_cache} vectors from the corpus's vector cache" if self.from_cache else ""
        return (
            f"{self.documents} documents, {self.chunks} chunks: {self.added} added, "
            f"{self.updated} updated, {self.removed} removed, {self.unchanged} unchanged{spanish}; "
            f"{self.encoded_chunks} chunks embedded{shipped}; index v{self.version}; {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def doc_hash(file_hash: str, model: str) -> str:
    return hashlib.sha256(f"{file_hash}|{CHUNKER_VERSION}|{model}".encode()).hexdigest()[:16]


def _units(
    settings: Settings, model: str
) -> tuple[list, dict[tuple[str, str], tuple[str, Callable[[], list]]]]:
    """The corpus as indexing units: (doc id, "en") per document, (doc id, "es") per Spanish file with
    usable lines -> (hash, a function giving its chunks)."""
    docs = load_corpus(settings.corpus_dir)  # CorpusError here touches nothing
    spanish = load_spanish(settings.corpus_dir, docs)
    units: dict[tuple[str, str], tuple[str, Callable[[], list]]] = {}
    for doc in docs:
        units[(doc.id, "en")] = (doc_hash(doc.content_hash, model), partial(chunk_document, doc))
        sp = spanish.get(doc.id)
        if sp and spanish_chunks(doc, sp):
            units[(doc.id, "es")] = (
                doc_hash(f"{doc.content_hash}|es:{sp.content_hash}", model),
                partial(spanish_chunks, doc, sp),
            )
    return docs, units


STAMP = "ingest-stamp.json"


def corpus_fingerprint(settings: Settings, model: str) -> str:
    """A hash of every file under the corpus folder (names and bytes), the chunker and the model:
    what an index built by `ingest` depends on. Reading ~100 small files takes milliseconds."""
    digest = hashlib.sha256(f"{CHUNKER_VERSION}|{model}".encode())
    root = settings.corpus_dir
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _stamp_path(settings: Settings):
    return settings.data_dir / "cache" / STAMP


def write_stamp(settings: Settings, index: Index, model: str) -> None:
    """Record which corpus the current index was built from (see `up_to_date`)."""
    path = _stamp_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = {"fingerprint": corpus_fingerprint(settings, model), "version": index.version}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stamp))
    tmp.replace(path)


def up_to_date(settings: Settings, index: Index, model: str) -> bool:
    """True when the index was built by `ingest` from exactly the corpus now on disk (same files,
    chunker and model) and is still that version: a warm start then skips the incremental ingest.
    Any doubt (no stamp, unreadable, another version) says False, and the ingest decides."""
    try:
        stamp = json.loads(_stamp_path(settings).read_text())
        return (
            index.exists()
            and stamp.get("version") == index.version
            and stamp.get("fingerprint") == corpus_fingerprint(settings, model)
        )
    except (OSError, ValueError, AttributeError):
        return False


def stale_documents(settings: Settings, encoder: Encoder, index: Index) -> list[str]:
    """Ids of documents added, changed or removed (English or Spanish text) since the index was built."""
    _, units = _units(settings, encoder.model_name)
    stored: dict[tuple[str, str], set[str]] = {}
    for row in index.records():
        stored.setdefault((row.chunk.doc_id, row.chunk.lang), set()).add(row.doc_hash)
    changed = {key[0] for key, (h, _) in units.items() if stored.get(key) != {h}}
    return sorted(changed | {key[0] for key in stored if key not in units})


def ingest(settings: Settings, encoder: Encoder, index: Index, progress: bool = True) -> IngestReport:
    started = time.perf_counter()
    docs, units = _units(settings, encoder.model_name)  # CorpusError here touches nothing
    index.drop_orphans()
    old: dict[tuple[str, str], list[StoredChunk]] = {}
    for row in index.records(with_embeddings=True):
        old.setdefault((row.chunk.doc_id, row.chunk.lang), []).append(row)

    rows: list[StoredChunk] = []
    to_encode: list[tuple[str, list]] = []  # (hash, chunks) per changed unit
    added = updated = unchanged = spanish_updated = 0
    for (doc_id, lang), (h, make_chunks) in units.items():
        previous = old.get((doc_id, lang))
        if previous and all(r.doc_hash == h for r in previous):
            rows.extend(previous)
            unchanged += lang == "en"
            continue
        if lang == "es":
            spanish_updated += 1
        elif previous:
            updated += 1
        else:
            added += 1
        to_encode.append((h, make_chunks()))
    removed = len({d for d, lang in old if lang == "en"} - {d.id for d in docs})
    dropped_spanish = any(key not in units for key in old)

    shipped = ShippedVectors.load(settings.corpus_dir, encoder.model_name, encoder.dimension)
    if not to_encode and not removed and not dropped_spanish and index.exists():
        precompute_vectors(
            encoder, _english(rows), settings.data_dir / "cache", progress, shipped
        )  # no-op when cached
        report = IngestReport(
            len(docs),
            len(rows),
            0,
            0,
            0,
            unchanged,
            0,
            time.perf_counter() - started,
            index.version,
            switched=False,
            from_cache=shipped.hits,
        )
        log.info("ingest: nothing changed")
        write_stamp(settings, index, encoder.model_name)
        return report

    # Chunks whose embedding text the shipped cache holds take its vector; the bar counts the rest.
    found = [[shipped.get(embedding_text(c)) for c in chunks] for _, chunks in to_encode]
    misses = sum(v is None for unit in found for v in unit)
    encoded = 0
    bar = tqdm(total=misses, desc="Embedding", unit="chunk", disable=not progress or not misses)
    for (h, chunks), cached in zip(to_encode, found):
        todo = [i for i, v in enumerate(cached) if v is None]
        fresh = dict(zip(todo, encoder.encode([embedding_text(chunks[i]) for i in todo]))) if todo else {}
        rows.extend(
            StoredChunk(c, h, (v if v is not None else fresh[i]).tolist())
            for i, (c, v) in enumerate(zip(chunks, cached))
        )
        encoded += len(todo)
        bar.update(len(todo))
    bar.close()

    version = index.version + 1
    staging = index.create_staging(version)
    try:
        index.write(staging, rows)
        if staging.count() != len(rows):
            raise RuntimeError(f"staging collection has {staging.count()} rows, expected {len(rows)}")
    except BaseException:
        index.drop(staging.name)
        raise
    index.switch(staging.name, version, documents=len(docs), chunks=len(rows), model=encoder.model_name)
    # The composer's sentence and heading vectors depend only on the index: encode them now,
    # under this progress bar, into the cache beside the index, not at the first server start.
    precompute_vectors(encoder, _english(rows), settings.data_dir / "cache", progress, shipped)
    report = IngestReport(
        len(docs),
        len(rows),
        added,
        updated,
        removed,
        unchanged,
        encoded,
        time.perf_counter() - started,
        version,
        switched=True,
        spanish_updated=spanish_updated,
        from_cache=shipped.hits,
    )
    log.info("ingest: %s", report.summary())
    write_stamp(settings, index, encoder.model_name)
    return report


def _english(rows: list[StoredChunk]) -> list:
    """The chunks the English composer reads (Spanish lines keep their own vectors in the index)."""
    return [r.chunk for r in rows if r.chunk.lang == "en"]
