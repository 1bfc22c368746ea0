"""Retrieval evaluation: recall@3 and MRR@10 over labelled debtor questions."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field

from knowledge.retriever import HybridRetriever

T = TypeVar("T")
RETRIEVAL_SET = Path(__file__).resolve().parent / "datasets" / "retrieval.yaml"


class RetrievalItem(BaseModel):
    """A debtor's question and the passages that answer it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    query: str
    relevant: list[str] = Field(min_length=1)
    style: Literal["formal", "informal"] = "formal"
    product: Literal["kartu_kredit", "kta", "p2p"] | None = None


class RetrievalReport(BaseModel):
    """Aggregate retrieval metrics."""

    queries: int
    recall_at_3: float
    mrr_at_10: float
    recall_at_3_informal: float
    misses: list[tuple[str, list[str], list[str]]]


def load_retrieval_set(path: Path = RETRIEVAL_SET) -> list[RetrievalItem]:
    """Read the labelled retrieval set."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [RetrievalItem.model_validate(item) for item in data["items"]]


def evaluate_retrieval(items: list[RetrievalItem], retriever: HybridRetriever) -> RetrievalReport:
    """Recall@3 (any relevant passage in the top 3) and MRR@10 (first relevant rank)."""
    hits3 = informal = informal_hits = 0
    reciprocal = 0.0
    misses = []
    for item in items:
        ranked = [h.id for h in retriever.search(item.query, k=10, product=item.product)]
        relevant = set(item.relevant)
        found = any(pid in relevant for pid in ranked[:3])
        hits3 += found
        if item.style == "informal":
            informal += 1
            informal_hits += found
        rank = next((i for i, pid in enumerate(ranked, 1) if pid in relevant), None)
        reciprocal += 1 / rank if rank else 0.0
        if not found:
            misses.append((item.query, item.relevant, ranked[:3]))
    total = max(len(items), 1)
    return RetrievalReport(
        queries=len(items),
        recall_at_3=round(hits3 / total, 4),
        mrr_at_10=round(reciprocal / total, 4),
        recall_at_3_informal=round(informal_hits / max(informal, 1), 4),
        misses=misses,
    )


def item_outcomes(
    items: Sequence[RetrievalItem], retriever: HybridRetriever
) -> list[tuple[bool, float]]:
    """Per question: whether a relevant passage is in the top 3, and the reciprocal rank."""
    outcomes = []
    for item in items:
        ranked = [h.id for h in retriever.search(item.query, k=10, product=item.product)]
        rank = next((i for i, pid in enumerate(ranked, 1) if pid in item.relevant), None)
        outcomes.append((rank is not None and rank <= 3, 1 / rank if rank else 0.0))
    return outcomes


def cross_validate(
    items: Sequence[RetrievalItem],
    candidates: dict[T, Callable[[], HybridRetriever]],
    folds: int = 5,
    seed: int = 0,
) -> tuple[float, float, list[T]]:
    """K-fold estimate of recall@3 and MRR@10 when a configuration is chosen on the data.

    Each candidate configuration is scored on the other folds (recall@3 + MRR@10); the best
    one is then measured on the held-out fold. Returns (recall@3, MRR@10, choice per fold).
    """
    outcomes = {name: item_outcomes(items, make()) for name, make in candidates.items()}
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    held = [order[f::folds] for f in range(folds)]
    hits = reciprocal = 0.0
    chosen: list[T] = []
    for test in held:
        train = [i for i in order if i not in set(test)]

        def fit(name: T, rows: list[int] = train) -> float:
            return sum(outcomes[name][i][0] + outcomes[name][i][1] for i in rows)

        best = max(outcomes, key=fit)
        chosen.append(best)
        hits += sum(outcomes[best][i][0] for i in test)
        reciprocal += sum(outcomes[best][i][1] for i in test)
    total = max(len(items), 1)
    return round(hits / total, 4), round(reciprocal / total, 4), chosen
