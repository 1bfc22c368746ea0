"""``santun ingest``: (re)build the vector index idempotently; open the retriever."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from knowledge.embeddings import EMBEDDERS, Embedder
from knowledge.passages import CORPUS_DIR, Passage, load_corpus
from knowledge.retriever import HybridRetriever, Mode

COLLECTION = "santun_passages"
DEFAULT_EMBEDDER = "use"
BATCH = 16


@dataclass(frozen=True)
class IngestReport:
    """What an ingest run did."""

    passages: int
    embedded: int
    deleted: int
    embedder: str
    seconds: float


def chroma_client(data_dir: Path, chroma_url: str | None) -> ClientAPI:
    """Embedded Chroma under the data dir, or a Chroma server when a URL is configured."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        url = urlparse(chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=settings,
        )
    path = data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def open_collection(client: ClientAPI, embedder: Embedder) -> Collection:
    """The passages collection for an embedder (recreated when the embedder changed)."""
    collection = client.get_or_create_collection(
        COLLECTION, metadata={"embedder": embedder.name, "hnsw:space": "cosine"}
    )
    if (collection.metadata or {}).get("embedder") != embedder.name:
        client.delete_collection(COLLECTION)
        collection = client.create_collection(
            COLLECTION, metadata={"embedder": embedder.name, "hnsw:space": "cosine"}
        )
    return collection


def ingest(
    collection: Collection,
    embedder: Embedder,
    passages: list[Passage],
    progress: Callable[[int], Any] | None = None,
) -> tuple[int, int]:
    """Embed new or changed passages, delete removed ones; return (embedded, deleted)."""
    stored = collection.get(include=["metadatas"])
    digests = {
        pid: (meta or {}).get("digest")
        for pid, meta in zip(stored["ids"], stored["metadatas"] or [], strict=False)
    }
    wanted = {p.id for p in passages}
    removed = [pid for pid in digests if pid not in wanted]
    if removed:
        collection.delete(ids=removed)
    changed = [p for p in passages if digests.get(p.id) != p.digest]
    for start in range(0, len(changed), BATCH):
        batch = changed[start : start + BATCH]
        vectors = embedder.passages([f"{p.title}. {p.text}" for p in batch])
        collection.upsert(
            ids=[p.id for p in batch],
            embeddings=[v.tolist() for v in vectors],
            metadatas=[{"digest": p.digest, "kind": p.kind, "title": p.title} for p in batch],
            documents=[p.text for p in batch],
        )
        if progress is not None:
            progress(len(batch))
    return len(changed), len(removed)


@lru_cache(maxsize=2)
def make_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """Build a named embedder (``use`` or ``e5``)."""
    try:
        factory = EMBEDDERS[name]
    except KeyError as exc:
        raise ValueError(f"unknown embedder {name!r}; choose one of {sorted(EMBEDDERS)}") from exc
    embedder: Embedder = factory()
    return embedder


def load_default_corpus(directory: Path = CORPUS_DIR) -> list[Passage]:
    """The packaged corpus."""
    return load_corpus(directory)


def open_retriever(
    data_dir: Path,
    chroma_url: str | None,
    today: Callable[[], date],
    embedder_name: str = DEFAULT_EMBEDDER,
    mode: Mode = "hybrid",
) -> HybridRetriever:
    """Refresh the index (only what changed) and return a retriever over it."""
    passages = load_default_corpus()
    embedder = make_embedder(embedder_name)
    collection = open_collection(chroma_client(data_dir, chroma_url), embedder)
    ingest(collection, embedder, passages)
    return HybridRetriever(passages, embedder, collection, today, mode=mode)
