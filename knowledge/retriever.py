"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from chromadb.api.models.Collection import Collection

from knowledge.embeddings import Embedder
from knowledge.lexical import LexicalIndex
from knowledge.passages import Passage

Mode = Literal["hybrid", "dense", "lexical"]
RRF_K = 60


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and whether it is in force today."""

    passage: Passage
    score: float
    current: bool

    @property
    def id(self) -> str:
        """Passage id."""
        return self.passage.id

    @property
    def title(self) -> str:
        """Passage title."""
        return self.passage.title

    @property
    def source(self) -> str:
        """Regulation and article, or the lender's policy or FAQ."""
        return self.passage.source

    @property
    def text(self) -> str:
        """The plain answer: the passage's first sentences."""
        return self.passage.summary()


class HybridRetriever:
    """Searches the corpus; filters by product and date; flags passages no longer in force."""

    def __init__(
        self,
        passages: list[Passage],
        embedder: Embedder,
        collection: Collection,
        today: Any,
        mode: Mode = "hybrid",
    ) -> None:
        """Build around an ingested collection; ``today`` is a callable returning a date."""
        self.passages = {p.id: p for p in passages}
        self.embedder, self.collection, self.today, self.mode = embedder, collection, today, mode
        self.lexical = LexicalIndex(passages)

    def dense_rank(self, query: str) -> list[str]:
        """Passage ids by embedding similarity, best first."""
        vector = self.embedder.queries([query])[0]
        found = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=min(30, len(self.passages))
        )
        return [pid for pid in found["ids"][0] if pid in self.passages]

    def search(
        self, query: str, k: int = 3, product: str | None = None, kind: str | None = None
    ) -> list[Hit]:
        """Top ``k`` passages for a debtor's question, applicable to their product."""
        scores: dict[str, float] = {}
        if self.mode in ("hybrid", "dense"):
            for rank, pid in enumerate(self.dense_rank(query), 1):
                scores[pid] = scores.get(pid, 0.0) + 1 / (RRF_K + rank)
        if self.mode in ("hybrid", "lexical"):
            for rank, (pid, _) in enumerate(self.lexical.rank(query)[:30], 1):
                scores[pid] = scores.get(pid, 0.0) + 1 / (RRF_K + rank)
        day: date = self.today()
        hits = []
        for pid, score in sorted(scores.items(), key=lambda item: -item[1]):
            passage = self.passages[pid]
            if not passage.applies(product) or (kind and passage.kind != kind):
                continue
            if passage.effective_from > day:
                continue
            hits.append(Hit(passage, round(score * RRF_K, 4), passage.in_force(day)))
            if len(hits) == k:
                break
        return hits
