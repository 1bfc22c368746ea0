"""Hybrid retrieval: dense (Chroma, several vectors per passage) and lexical (BM25) rankings.

Both rankings are computed over the passages the debtor may be shown (product and date
filters first), then fused: weighted reciprocal rank fusion, or a weighted sum of z-scored
similarities. The weights were chosen by 5-fold cross-validation on the retrieval set
(``evals/retrieval.py``); see ``FUSION``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
from chromadb.api.models.Collection import Collection

from agent.engines.offline.normalise import normalise as normalise_slang
from knowledge.embeddings import Embedder
from knowledge.lexical import LexicalIndex, expand
from knowledge.passages import Passage

Mode = Literal["hybrid", "dense", "lexical"]
RRF_K = 60  # kept for callers of the old constant; the fused score no longer uses it


@dataclass(frozen=True)
class Fusion:
    """How the dense and lexical rankings are combined.

    ``method``: ``rrf`` (weighted reciprocal rank, ``k`` the rank offset) or ``zscore``
    (weighted sum of per-query z-scored similarities). ``dense_weight`` is the dense share,
    the lexical share being ``1 - dense_weight``. ``query``: the dense side embeds the
    slang-normalised query, synonym-expanded or not. ``chunks``: a passage's dense score is
    its best chunk (1) or the mean of its best two (2). ``depth``: ranks fused per side.
    """

    method: Literal["rrf", "zscore"] = "rrf"
    dense_weight: float = 0.2
    k: int = 5
    query: Literal["expanded", "normalised"] = "expanded"
    chunks: int = 1
    depth: int = 30


# Chosen per embedder by 5-fold cross-validation (parameters picked on 4 folds, tested on 1).
FUSION: dict[str, Fusion] = {
    "use-multilingual-v3": Fusion(method="rrf", dense_weight=0.2, k=5, query="expanded"),
    "multilingual-e5-small-q4": Fusion(
        method="zscore", dense_weight=0.4, query="normalised", chunks=2
    ),
}


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


def chunk_owner(chunk_id: str) -> str:
    """The passage id of a Chroma entry (``pid#n``)."""
    return chunk_id.split("#", 1)[0]


class HybridRetriever:
    """Searches the corpus; filters by product and date; flags passages no longer in force."""

    def __init__(
        self,
        passages: list[Passage],
        embedder: Embedder,
        collection: Collection,
        today: Any,
        mode: Mode = "hybrid",
        fusion: Fusion | None = None,
    ) -> None:
        """Build around an ingested collection; ``today`` is a callable returning a date."""
        self.passages = {p.id: p for p in passages}
        self.embedder, self.collection, self.today, self.mode = embedder, collection, today, mode
        self.fusion = fusion or FUSION.get(embedder.name, Fusion())
        self.lexical = LexicalIndex(passages)
        self._entries = max(collection.count(), 1)

    def dense_query(self, query: str) -> str:
        """The text the dense side embeds."""
        return expand(query) if self.fusion.query == "expanded" else normalise_slang(query)

    def dense_scores(self, query: str) -> dict[str, float]:
        """Cosine similarity of every passage to the query (its best chunk, or best two)."""
        vector = self.embedder.queries([self.dense_query(query)])[0]
        found = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=self._entries, include=["distances"]
        )
        sims: dict[str, list[float]] = {}
        for chunk, distance in zip(found["ids"][0], (found["distances"] or [[]])[0], strict=True):
            pid = chunk_owner(chunk)
            if pid in self.passages:
                sims.setdefault(pid, []).append(1.0 - float(distance))
        top = self.fusion.chunks
        return {pid: float(np.mean(sorted(v, reverse=True)[:top])) for pid, v in sims.items()}

    def dense_rank(self, query: str) -> list[str]:
        """Passage ids by embedding similarity, best first."""
        scores = self.dense_scores(query)
        return sorted(scores, key=lambda pid: -scores[pid])

    def _allowed(self, product: str | None, kind: str | None) -> set[str]:
        day: date = self.today()
        return {
            pid
            for pid, p in self.passages.items()
            if p.applies(product) and (not kind or p.kind == kind) and p.effective_from <= day
        }

    def _fuse(self, dense: dict[str, float], lexical: dict[str, float]) -> dict[str, float]:
        fusion = self.fusion
        sides = [(dense, fusion.dense_weight), (lexical, 1.0 - fusion.dense_weight)]
        if self.mode == "dense":
            sides = [(dense, 1.0)]
        elif self.mode == "lexical":
            sides = [(lexical, 1.0)]
        fused: dict[str, float] = {}
        for scores, weight in sides:
            if not scores or weight <= 0:
                continue
            if fusion.method == "rrf":
                ranked = sorted(scores, key=lambda pid: -scores[pid])[: fusion.depth]
                for rank, pid in enumerate(ranked, 1):  # rank 1 on both sides scores 1.0
                    fused[pid] = fused.get(pid, 0.0) + weight * (fusion.k + 1) / (fusion.k + rank)
            else:
                values = np.array(list(scores.values()))
                mean, std = float(values.mean()), float(values.std()) or 1.0
                for pid, value in scores.items():
                    fused[pid] = fused.get(pid, 0.0) + weight * (value - mean) / std
        return fused

    def search(
        self, query: str, k: int = 3, product: str | None = None, kind: str | None = None
    ) -> list[Hit]:
        """Top ``k`` passages for a debtor's question, applicable to their product."""
        allowed = self._allowed(product, kind)
        dense: dict[str, float] = {}
        lexical: dict[str, float] = {}
        if self.mode in ("hybrid", "dense"):
            dense = {p: s for p, s in self.dense_scores(query).items() if p in allowed}
        if self.mode in ("hybrid", "lexical"):
            lexical = {p: s for p, s in self.lexical.rank(query) if p in allowed}
        fused = self._fuse(dense, lexical)
        day: date = self.today()
        ranked = sorted(fused, key=lambda pid: (-fused[pid], pid))[:k]
        return [
            Hit(self.passages[pid], round(fused[pid], 4), self.passages[pid].in_force(day))
            for pid in ranked
        ]
