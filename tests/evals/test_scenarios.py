"""Scenario files load strictly, and each turn's assertions are judged correctly."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.scenarios import Expect, ScenarioError, check_turn, load_scenarios

ANSWER = {
    "reply": "Total tagihan Anda Rp12.450.000. Menurut POJK 22/2023, ...",
    "verified": True,
    "handoff": False,
    "tool_calls": [{"name": "get_balance", "args": {}, "result": {"ok": True}}],
    "citations": [{"id": "p1", "title": "t", "source": "POJK 22/2023 Pasal 62"}],
    "guardrail": {"drafts_blocked": 1, "violations": []},
}


def kinds(checks: list[dict[str, object]], passed: bool) -> list[object]:
    return [c["kind"] for c in checks if c["passed"] is passed]


def test_every_assertion_kind_passes_when_it_holds() -> None:
    expect = Expect(
        tools=["get_balance"],
        tools_include=["get_balance"],
        tools_exclude=["create_payment_link"],
        no_tools=False,
        reply_contains=["total tagihan"],
        reply_contains_any=["nope", "POJK"],
        reply_not_contains=["penjara"],
        amounts=[12_450_000],
        no_amounts=False,
        citation_source_contains="pojk 22/2023",
        cited=True,
        verified=True,
        handoff=False,
        blocked_drafts=1,
    )
    checks = check_turn(expect, ANSWER)
    assert len(checks) == 14 and kinds(checks, False) == []


def test_failing_assertions_are_reported_with_expected_and_actual() -> None:
    expect = Expect(
        tools=["verify_identity"],
        amounts=[2_145_000],
        no_amounts=True,
        verified=False,
        reply_not_contains=["tagihan"],
    )
    checks = check_turn(expect, ANSWER)
    assert kinds(checks, False) == [
        "tools",
        "reply_not_contains",
        "amounts",
        "no_amounts",
        "verified",
    ]
    amounts = next(c for c in checks if c["kind"] == "amounts")
    assert amounts["expected"] == "Rp2.145.000"


def test_malformed_scenarios_name_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "scenarios:\n  - id: x-1\n    title: t\n    persona: grumpy\n    category: plans\n"
        "    account: CC-1003\n    turns: [{user: halo}]\n"
    )
    with pytest.raises(ScenarioError, match=r"bad.yaml: scenario x-1: persona"):
        load_scenarios(tmp_path)
    (tmp_path / "bad.yaml").write_text(
        "scenarios:\n  - id: x-1\n    title: t\n    persona: cooperative\n    category: plans\n"
        "    account: CC-1003\n    turns: [{user: halo, expect: {amount: 5}}]\n"
    )
    with pytest.raises(ScenarioError, match=r"turns.0.expect.amount"):
        load_scenarios(tmp_path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    one = (
        "scenarios:\n  - id: same-id\n    title: t\n    persona: cooperative\n"
        "    category: plans\n    account: CC-1003\n    turns: [{user: halo}]\n"
    )
    (tmp_path / "a.yaml").write_text(one)
    (tmp_path / "b.yaml").write_text(one)
    with pytest.raises(ScenarioError, match="duplicate scenario id 'same-id'"):
        load_scenarios(tmp_path)


def test_the_shipped_suite_is_large_and_covers_every_persona() -> None:
    scenarios = load_scenarios()
    assert len(scenarios) >= 80
    personas = {s.persona for s in scenarios}
    assert len(personas) == 13
    assert sum(len(s.turns) for s in scenarios) >= 240
