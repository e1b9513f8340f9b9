"""The Chroma index: embedded (`PersistentClient`) by default, a server (`HttpClient`) when configured.

Atomic switch: each ingest writes a new collection `<prefix>-v<N>` aside, then flips a
pointer (the metadata of the collection `<prefix>-active`, one write) and only then drops
the old collection. Readers always follow the pointer, so a failed or interrupted ingest
leaves the serving collection untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings

from bot.settings import Settings
from bot.types import Chunk

log = logging.getLogger(__name__)


class IndexError_(Exception):
    """The index is missing or unreachable; the message says what to run."""


def make_client(settings: Settings) -> Any:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.uses_server:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host or "", port=settings.chroma_port, settings=chroma_settings
            )
        except Exception as exc:
            raise IndexError_(
                f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                f"(KQA_CHROMA_HOST / KQA_CHROMA_PORT): {exc}"
            ) from None
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    try:
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        client.list_collections()  # reads the store: a corrupt file fails here, not mid-request
    except Exception as exc:
        raise unreadable(str(path), exc) from None
    return client


def unreadable(where: str, exc: Exception) -> IndexError_:
    """One line naming the store, the error and the fix (no traceback for a corrupt index)."""
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return IndexError_(
        f"The index at {where} cannot be read ({type(exc).__name__}: {first}). "
        "Move that folder aside (or delete it) and run `kratom-qa ingest` to rebuild it."
    )


@dataclass
class StoredChunk:
    chunk: Chunk
    doc_hash: str
    embedding: list[float]


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=str(meta["doc_id"]),
        title=str(meta["title"]),
        heading=str(meta["heading"]),
        publisher=str(meta["publisher"]),
        year=str(meta["year"]),
        url=str(meta["url"]),
        text=text,
        lang=str(meta.get("lang") or "en"),
        twin=str(meta.get("twin") or ""),
    )


class Index:
    def __init__(self, client: Any, prefix: str):
        self.client = client
        self.prefix = prefix
        self.pointer_name = f"{prefix}-active"

    # ---- the pointer -------------------------------------------------------------
    def pointer(self) -> dict[str, Any]:
        try:
            return dict(self.client.get_collection(self.pointer_name).metadata or {})
        except Exception:
            return {}

    @property
    def active_name(self) -> str | None:
        return self.pointer().get("active")

    @property
    def version(self) -> int:
        return int(self.pointer().get("version", 0))

    def active(self) -> Any:
        name = self.active_name
        if not name:
            raise IndexError_("No index yet. Run `kratom-qa ingest` first.")
        return self.client.get_collection(name, embedding_function=None)

    def exists(self) -> bool:
        return bool(self.active_name)

    # ---- reading ------------------------------------------------------------------
    def records(self, with_embeddings: bool = False) -> list[StoredChunk]:
        if not self.exists():
            return []
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        try:
            got = self.active().get(include=include)
        except Exception as exc:
            raise unreadable(f"collection {self.active_name}", exc) from None
        out = []
        embeddings = got.get("embeddings") if with_embeddings else None
        for i, cid in enumerate(got["ids"]):
            meta = got["metadatas"][i]
            emb = list(embeddings[i]) if embeddings is not None else []
            out.append(
                StoredChunk(
                    chunk_from_record(cid, got["documents"][i], meta), str(meta.get("doc_hash", "")), emb
                )
            )
        return out

    def stats(self) -> dict[str, Any]:
        p = self.pointer()
        if not p.get("active"):
            return {"documents": 0, "chunks": 0, "version": 0, "collection": None}
        return {
            "documents": int(p.get("documents", 0)),
            "chunks": int(p.get("chunks", 0)),
            "version": int(p.get("version", 0)),
            "collection": p.get("active"),
            "model": p.get("model"),
        }

    # ---- writing ------------------------------------------------------------------
    def create_staging(self, version: int) -> Any:
        name = f"{self.prefix}-v{version}"
        try:
            self.client.delete_collection(name)  # debris of an earlier failed attempt
        except Exception:
            pass
        return self.client.create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)

    def write(self, collection: Any, rows: list[StoredChunk]) -> None:
        batch = max(1, min(1000, int(self.client.get_max_batch_size())))
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            collection.add(
                ids=[r.chunk.chunk_id for r in part],
                embeddings=[r.embedding for r in part],
                documents=[r.chunk.text for r in part],
                metadatas=[{**r.chunk.metadata(), "doc_hash": r.doc_hash} for r in part],
            )

    def switch(self, new_name: str, version: int, documents: int, chunks: int, model: str) -> None:
        old = self.active_name
        pointer = self.client.get_or_create_collection(self.pointer_name, embedding_function=None)
        pointer.modify(
            metadata={
                "active": new_name,
                "version": version,
                "documents": documents,
                "chunks": chunks,
                "model": model,
            }
        )
        if old and old != new_name:
            self.drop(old)

    def drop(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception as exc:  # a reader may still hold it; it is garbage either way
            log.warning("could not drop old collection %s: %s", name, exc)

    def drop_orphans(self) -> None:
        """Remove staging collections left by failed ingests (never the active one)."""
        active = self.active_name
        for c in self.client.list_collections():
            name = c if isinstance(c, str) else c.name
            if name.startswith(f"{self.prefix}-v") and name != active:
                self.drop(name)


def open_index(settings: Settings) -> Index:
    return Index(make_client(settings), settings.collection)
