"""Retrieval quality gate: the default configuration on the labelled debtor questions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from evals.retrieval import evaluate_retrieval, load_retrieval_set
from knowledge.index import DEFAULT_EMBEDDER, open_retriever

DEMO_DAY = date(2026, 11, 23)
MIN_RECALL_AT_3 = 0.90
MIN_MRR_AT_10 = 0.80


def test_default_retrieval_meets_the_gates(index_dir: Path) -> None:
    items = load_retrieval_set()
    report = evaluate_retrieval(items, open_retriever(index_dir, None, lambda: DEMO_DAY))
    if report.recall_at_3 >= MIN_RECALL_AT_3 and report.mrr_at_10 >= MIN_MRR_AT_10:
        return
    lines = [f"embedder {DEFAULT_EMBEDDER}: recall@3 / MRR@10 / informal recall@3"]
    for mode in ("dense", "lexical", "hybrid"):
        retriever = open_retriever(index_dir, None, lambda: DEMO_DAY, mode=mode)
        r = evaluate_retrieval(items, retriever)
        lines.append(
            f"  {mode:8} {r.recall_at_3:.3f} / {r.mrr_at_10:.3f} / {r.recall_at_3_informal:.3f}"
        )
    lines += [f"  miss: {q!r} wanted {want} got {got}" for q, want, got in report.misses]
    print("\n".join(lines))
    raise AssertionError(
        f"recall@3 {report.recall_at_3} (gate {MIN_RECALL_AT_3}), "
        f"MRR@10 {report.mrr_at_10} (gate {MIN_MRR_AT_10})\n" + "\n".join(lines)
    )


def test_retrieval_is_genuinely_hybrid(index_dir: Path) -> None:
    retriever = open_retriever(index_dir, None, lambda: DEMO_DAY)
    fusion = retriever.fusion
    assert retriever.mode == "hybrid" and 0 < fusion.dense_weight < 1
    question = "cc gw udh macet, bakal dibui ga?"
    assert retriever.dense_rank(question) and retriever.lexical.rank(question)
