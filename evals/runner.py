"""Runs scenarios through the real service, turn by turn, and records what happened.

Each scenario gets its own database (a fresh copy of the demo data), in-memory checkpoints and
its own pinned clock; the guardrail and the knowledge retriever are built once and shared.
Scenarios run concurrently (``concurrency``); with ``repeat`` > 1 every scenario runs several
times and its flip rate (the share of runs that disagree with the majority) is reported.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.protocols import Retriever
from agent.runtime import open_service
from evals.scenarios import Scenario, check_turn
from guardrails import ComplianceGuard


@dataclass
class SuiteRun:
    """What one suite produced: per-case records, node timings and model usage."""

    name: str
    cases: list[dict[str, Any]] = field(default_factory=list)
    node_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    turn_ms: list[float] = field(default_factory=list)
    usage: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    engines: set[str] = field(default_factory=set)
    prompt_versions: set[str] = field(default_factory=set)


async def run_suite(
    name: str,
    scenarios: list[Scenario],
    settings: Settings,
    *,
    guard: ComplianceGuard,
    retriever: Retriever,
    repeat: int = 1,
    concurrency: int = 4,
    progress: Callable[[], None] | None = None,
) -> SuiteRun:
    """Run every scenario ``repeat`` times against services built from ``settings``."""
    run = SuiteRun(name)
    gate = asyncio.Semaphore(concurrency)
    with tempfile.TemporaryDirectory(prefix=f"santun-eval-{name}-") as tmp:

        async def one(scenario: Scenario) -> dict[str, Any]:
            outcomes: list[dict[str, Any]] = []
            for attempt in range(repeat):
                async with gate:
                    data_dir = Path(tmp) / f"{scenario.id}-{attempt}"
                    outcomes.append(
                        await _run_once(scenario, settings, data_dir, guard, retriever, run)
                    )
                if progress is not None:
                    progress()
            return _case(name, scenario, outcomes)

        run.cases = list(await asyncio.gather(*(one(s) for s in scenarios)))
    return run


async def _run_once(
    scenario: Scenario,
    settings: Settings,
    data_dir: Path,
    guard: ComplianceGuard,
    retriever: Retriever,
    run: SuiteRun,
) -> dict[str, Any]:
    configured = settings.model_copy(
        update={"data_dir": data_dir, "now": scenario.now, "database_url": None}
    )
    turns: list[dict[str, Any]] = []

    def observe(node: str, ms: float) -> None:
        run.node_ms[node].append(ms)

    async with open_service(
        configured,
        persist_checkpoints=False,
        guard=guard,
        retriever=retriever,
        observer=observe,
    ) as service:
        token = service.mint_session_token(scenario.account) if scenario.auth == "token" else None
        session_id = (await service.start_session(token))["session_id"]
        for index, turn in enumerate(scenario.turns, 1):
            started = time.perf_counter()
            answer = await service.handle_message(session_id, turn.user)
            latency = (time.perf_counter() - started) * 1000
            run.turn_ms.append(latency)
            audit = [e for e in service.store.audit_events(session_id) if e["kind"] == "turn"][-1]
            turns.append(_turn_record(index, turn.user, answer, audit, latency, turn.expect, run))
    return {"turns": turns, "passed": all(a["passed"] for t in turns for a in t["assertions"])}


def _turn_record(
    index: int,
    user: str,
    answer: dict[str, Any],
    audit: dict[str, Any],
    latency: float,
    expect: Any,
    run: SuiteRun,
) -> dict[str, Any]:
    drafts = audit.get("drafts", [])
    assertions = check_turn(expect, answer)
    sent_allowed = bool(drafts) and bool(drafts[-1].get("allowed"))
    assertions.append(
        {
            "kind": "no_violation_sent",
            "expected": True,
            "actual": sent_allowed,
            "passed": sent_allowed,
        }
    )
    run.engines.add(str(audit.get("engine")))
    if audit.get("prompt_version"):
        run.prompt_versions.add(str(audit["prompt_version"]))
    for key, value in (audit.get("llm_usage") or {}).items():
        if isinstance(value, int | float):
            run.usage[key] += value
    passages = [
        p["id"]
        for call in answer.get("tool_calls", [])
        if call["name"] == "search_knowledge"
        for p in call["result"].get("passages", [])
    ]
    return {
        "index": index,
        "user": user,
        "reply": answer.get("reply", ""),
        "verified": answer.get("verified"),
        "handoff": answer.get("handoff"),
        "latency_ms": round(latency, 2),
        "engine": audit.get("engine"),
        "tool_calls": answer.get("tool_calls", []),
        "citations": answer.get("citations", []),
        "passages": passages,
        "drafts": drafts,
        "llm_events": audit.get("llm_events", []),
        "assertions": assertions,
    }


def _case(suite: str, scenario: Scenario, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """One scenario's record: the first failing run's transcript (else the first run's)."""
    passes = sum(1 for o in outcomes if o["passed"])
    shown = next((o for o in outcomes if not o["passed"]), outcomes[0])
    failures = [
        {
            "turn": turn["index"],
            "assertion": a["kind"],
            "expected": a["expected"],
            "actual": a["actual"],
        }
        for turn in shown["turns"]
        for a in turn["assertions"]
        if not a["passed"]
    ]
    runs = len(outcomes)
    return {
        "id": f"{suite}:{scenario.id}",
        "scenario": scenario.id,
        "suite": suite,
        "title": scenario.title,
        "persona": scenario.persona,
        "category": scenario.category,
        "account": scenario.account,
        "rubric": scenario.rubric,
        "passed": passes == runs,
        "runs": runs,
        "flip_rate": round(min(passes, runs - passes) / runs, 4) if runs > 1 else None,
        "failures": failures,
        "turns": shown["turns"],
    }


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 (nearest rank) of millisecond samples, and their count."""
    if not values:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(p95, 2),
        "n": len(ordered),
    }
