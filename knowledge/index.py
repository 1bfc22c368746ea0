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
from knowledge.retriever import HybridRetriever, Mode, chunk_owner

COLLECTION = "santun_passages"
DEFAULT_EMBEDDER = "use"
BATCH = 16
CHUNKING = "full+head-v1"  # bump when passage_chunks changes: every passage is re-embedded


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


def passage_chunks(passage: Passage) -> list[str]:
    """The texts embedded for a passage, stored as ``pid#0``, ``pid#1``, ...

    The whole passage under its title, and the title with the tags (the debtor's own words
    for the topic). A passage's dense score is that of its best chunk.
    """
    chunks = [f"{passage.title}. {passage.text}"]
    if passage.tags:
        chunks.append(f"{passage.title}. {', '.join(passage.tags)}")
    return chunks


def ingest(
    collection: Collection,
    embedder: Embedder,
    passages: list[Passage],
    progress: Callable[[int], Any] | None = None,
) -> tuple[int, int]:
    """Embed new or changed passages, delete removed ones; return (embedded, deleted) passages."""
    stored = collection.get(include=["metadatas"])
    chunk_ids: dict[str, list[str]] = {}
    digests: dict[str, str | None] = {}
    for chunk, meta in zip(stored["ids"], stored["metadatas"] or [], strict=False):
        pid = str((meta or {}).get("pid") or chunk_owner(chunk))
        chunk_ids.setdefault(pid, []).append(chunk)
        digest = (meta or {}).get("digest")
        # A passage whose chunks disagree (an interrupted ingest) is embedded again.
        digests[pid] = str(digest) if digests.get(pid, digest) == digest else None
    wanted = {p.id for p in passages}
    removed = [pid for pid in chunk_ids if pid not in wanted]
    changed = [p for p in passages if digests.get(p.id) != _digest(p)]
    stale = [c for pid in removed for c in chunk_ids[pid]]
    stale += [c for p in changed for c in chunk_ids.get(p.id, [])]
    if stale:
        collection.delete(ids=stale)
    for start in range(0, len(changed), BATCH):
        batch = changed[start : start + BATCH]
        rows = [(p, n, text) for p in batch for n, text in enumerate(passage_chunks(p))]
        vectors = embedder.passages([text for _, _, text in rows])
        collection.upsert(
            ids=[f"{p.id}#{n}" for p, n, _ in rows],
            embeddings=[v.tolist() for v in vectors],
            metadatas=[
                {"pid": p.id, "digest": _digest(p), "kind": p.kind, "title": p.title}
                for p, _, _ in rows
            ],
            documents=[text for _, _, text in rows],
        )
        if progress is not None:
            progress(len(batch))
    return len(changed), len(removed)


def _digest(passage: Passage) -> str:
    """The passage's content hash, tied to the chunking scheme."""
    return f"{passage.digest}:{CHUNKING}"


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
