"""The eval gates: a violating reply, a pass-rate regression or a weak metric fails the run."""

from __future__ import annotations

from typing import Any

from evals.evaluate import baseline_from, gates


def report(pass_rate: float = 0.98, violating: int = 0, recall: float = 1.0) -> dict[str, Any]:
    return {
        "meta": {"git_commit": "abc"},
        "summary": {"violating_replies_sent": violating},
        "suites": {"offline": {"pass_rate": pass_rate}},
        "guardrail": {"recall": recall, "fpr": 0.0},
        "retrieval": {"recall_at_3": 0.97},
    }


def failed(result: list[dict[str, Any]]) -> list[str]:
    return [g["name"] for g in result if not g["passed"]]


def test_a_run_at_the_baseline_passes() -> None:
    baseline = baseline_from(report())
    assert failed(gates(report(), baseline)) == []
    assert failed(gates(report(pass_rate=0.965), baseline)) == []  # within the tolerance


def test_regressions_fail_the_gates() -> None:
    baseline = baseline_from(report())
    assert failed(gates(report(pass_rate=0.95), baseline)) == ["offline scenario pass rate"]
    assert failed(gates(report(violating=1), baseline)) == ["violating replies sent"]
    assert failed(gates(report(recall=0.9), baseline)) == ["guardrail recall (dev set)"]


def test_without_a_baseline_the_floor_is_95_percent() -> None:
    assert failed(gates(report(pass_rate=0.94), {})) == []
    assert failed(gates(report(pass_rate=0.92), {})) == ["offline scenario pass rate"]
