"""`kratom-qa ingest`: corpus -> chunks -> embeddings -> a new Chroma collection -> atomic switch
-> the composer's sentence vectors, cached beside the index (`<data_dir>/cache`).

Incremental: a document whose content hash (file bytes + chunker version + model) is
unchanged keeps its stored embeddings; changed documents are re-embedded, removed ones
are simply not copied. Nothing is switched until the new collection is fully written.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass

from tqdm import tqdm

from bot.chunking import CHUNKER_VERSION, chunk_document, embedding_text
from bot.compose import precompute_vectors
from bot.corpus_loader import load_corpus
from bot.embedding import Encoder
from bot.index import Index, StoredChunk
from bot.settings import Settings

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

    def summary(self) -> str:
        return (
            f"{self.documents} documents, {self.chunks} chunks: {self.added} added, "
            f"{self.updated} updated, {self.removed} removed, {self.unchanged} unchanged; "
            f"{self.encoded_chunks} chunks embedded; index v{self.version}; {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def doc_hash(file_hash: str, model: str) -> str:
    return hashlib.sha256(f"{file_hash}|{CHUNKER_VERSION}|{model}".encode()).hexdigest()[:16]


def stale_documents(settings: Settings, encoder: Encoder, index: Index) -> list[str]:
    """Ids of documents added, changed or removed since the index was built."""
    docs = load_corpus(settings.corpus_dir)
    stored: dict[str, set[str]] = {}
    for row in index.records():
        stored.setdefault(row.chunk.doc_id, set()).add(row.doc_hash)
    current = {d.id: doc_hash(d.content_hash, encoder.model_name) for d in docs}
    changed = [i for i, h in current.items() if stored.get(i) != {h}]
    return sorted(changed + [i for i in stored if i not in current])


def ingest(settings: Settings, encoder: Encoder, index: Index, progress: bool = True) -> IngestReport:
    started = time.perf_counter()
    docs = load_corpus(settings.corpus_dir)  # CorpusError here touches nothing
    index.drop_orphans()
    old = {}
    for row in index.records(with_embeddings=True):
        old.setdefault(row.chunk.doc_id, []).append(row)

    rows: list[StoredChunk] = []
    to_encode: list[tuple[str, list]] = []  # (hash, chunks) per changed document
    added = updated = unchanged = 0
    for doc in docs:
        h = doc_hash(doc.content_hash, encoder.model_name)
        previous = old.get(doc.id)
        if previous and all(r.doc_hash == h for r in previous):
            rows.extend(previous)
            unchanged += 1
            continue
        if previous:
            updated += 1
        else:
            added += 1
        to_encode.append((h, chunk_document(doc)))
    removed = len(set(old) - {d.id for d in docs})

    if not to_encode and not removed and index.exists():
        precompute_vectors(encoder, [r.chunk for r in rows], settings.data_dir / "cache", progress)  # no-op when cached
        report = IngestReport(len(docs), len(rows), 0, 0, 0, unchanged, 0,
                              time.perf_counter() - started, index.version, switched=False)
        log.info("ingest: nothing changed")
        return report

    encoded = 0
    bar = tqdm(total=sum(len(c) for _, c in to_encode), desc="Embedding", unit="chunk",
               disable=not progress or not to_encode)
    for h, chunks in to_encode:
        vectors = encoder.encode([embedding_text(c) for c in chunks])
        rows.extend(StoredChunk(c, h, v.tolist()) for c, v in zip(chunks, vectors))
        encoded += len(chunks)
        bar.update(len(chunks))
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
    precompute_vectors(encoder, [r.chunk for r in rows], settings.data_dir / "cache", progress)
    report = IngestReport(len(docs), len(rows), added, updated, removed, unchanged, encoded,
                          time.perf_counter() - started, version, switched=True)
    log.info("ingest: %s", report.summary())
    return report
