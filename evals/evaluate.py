"""``santun eval``: run the suites, measure, apply the gates and write the reports.

Suites: ``offline`` (the embedded engine), ``scripted`` (the LLM engine over real HTTP against
a deterministic mock model on loopback) and ``llm`` (the configured real model; never run by
default). Besides the scenarios every report carries the guardrail's confusion matrix on its dev
set and the retriever's recall@3 and MRR, so one report is the whole sign-off picture.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from agent.config import Settings
from agent.engines.offline.templates import default_templates
from agent.prompts import load_prompts
from evals.guard import GUARD_DEV_SET, evaluate_guard, load_guard_set
from evals.retrieval import RETRIEVAL_SET, evaluate_retrieval, load_retrieval_set
from evals.runner import SuiteRun, percentiles, run_suite
from evals.scenarios import Scenario, scenarios_hash
from guardrails import ComplianceGuard
from knowledge.index import open_retriever

BASELINE_FILE = Path(__file__).parent / "baseline.json"
PRICES_FILE = Path(__file__).parent / "prices.yaml"
DEFAULT_SUITES = ("offline", "scripted")
EVAL_TODAY = date(2026, 11, 23)  # the retriever's "today" for effective dates; scenarios pin theirs
MOCK_MODEL = "santun-mock-model"
DEFAULT_PASS_RATE = 0.95  # the floor of a suite that has no committed baseline yet


@contextmanager
def suite_settings(name: str, base: Settings, variant: str) -> Iterator[Settings]:
    """Settings for one suite; the scripted suite serves the mock model while it runs."""
    if name == "offline":
        yield base.model_copy(update={"engine": "offline", "prompt_variant": variant})
        return
    if name == "llm":
        if base.resolved_engine != "llm":
            raise ValueError("the llm suite needs OPENAI_API_KEY or SANTUN_LLM_BASE_URL")
        yield base.model_copy(update={"engine": "llm", "prompt_variant": variant})
        return
    if name != "scripted":
        raise ValueError(f"unknown suite {name!r}; known: offline, scripted, llm")
    from evals.mock_model import respond
    from evals.scripted_llm import ScriptedLLM, serve_scripted

    with serve_scripted(ScriptedLLM(responder=respond)) as url:
        yield base.model_copy(
            update={
                "engine": "llm",
                "llm_base_url": url,
                "llm_model": MOCK_MODEL,
                "openai_api_key": None,
                "prompt_variant": variant,
                "llm_timeout": 20.0,
            }
        )


async def evaluate(
    scenarios: list[Scenario],
    suites: list[str],
    variant: str,
    base: Settings,
    *,
    repeat: int = 1,
    concurrency: int = 4,
    progress: Callable[[], None] | None = None,
    reviews: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run the suites for one prompt variant and return the report (without gates)."""
    guard = ComplianceGuard()
    retriever = open_retriever(
        base.resolved_index_dir, base.chroma_url, lambda: EVAL_TODAY, base.embedder
    )
    retriever.search("tagihan kartu kredit", k=1)  # load the encoder before anything is timed
    runs: list[SuiteRun] = []
    for name in suites:
        with suite_settings(name, base, variant) as settings:
            suite_repeat = repeat if name != "offline" else 1  # the offline engine is exact
            runs.append(
                await run_suite(
                    name,
                    scenarios,
                    settings,
                    guard=guard,
                    retriever=retriever,
                    repeat=suite_repeat,
                    concurrency=concurrency,
                    progress=progress,
                )
            )
    guard_report = evaluate_guard(load_guard_set(), guard)
    retrieval_report = evaluate_retrieval(load_retrieval_set(), retriever)
    cases = [case for run in runs for case in run.cases]
    return {
        "meta": _meta(suites, variant, base, runs, repeat, guard.version),
        "summary": _summary(cases, runs),
        "suites": {run.name: _summary(run.cases, [run]) for run in runs},
        "guardrail": _guardrail(guard_report),
        "retrieval": {
            "n": retrieval_report.queries,
            "recall_at_3": retrieval_report.recall_at_3,
            "mrr": retrieval_report.mrr_at_10,
        },
        "latency": _latency(runs),
        "cost": _cost(runs, base),
        "judge_errors": [],
        "reviews": reviews or [],
        "cases": sorted(cases, key=lambda c: (c["passed"], c["id"])),
    }


def _meta(
    suites: list[str],
    variant: str,
    base: Settings,
    runs: list[SuiteRun],
    repeat: int,
    guard_version: str,
) -> dict[str, Any]:
    prompts = load_prompts(variant)
    models = {run.name: (MOCK_MODEL if run.name == "scripted" else base.llm_model) for run in runs}
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "suite": "+".join(suites),
        "engine": ", ".join(sorted({e for run in runs for e in run.engines})),
        "model": ", ".join(f"{k}: {v}" for k, v in models.items() if k != "offline") or None,
        "variant": variant,
        "prompt_version": prompts.version,
        "rendered_prompt_versions": sorted({v for run in runs for v in run.prompt_versions})[:20],
        "templates_version": default_templates().version,
        "guard_version": guard_version,
        "datasets": {
            "scenarios": scenarios_hash(),
            GUARD_DEV_SET.name: _file_hash(GUARD_DEV_SET),
            RETRIEVAL_SET.name: _file_hash(RETRIEVAL_SET),
        },
        "clock": "pinned per scenario (default 2026-11-23T10:00+07:00)",
        "repeat": repeat,
        "judge": "not configured",
    }


def _summary(cases: list[dict[str, Any]], runs: list[SuiteRun]) -> dict[str, Any]:
    by_persona: dict[str, list[bool]] = defaultdict(list)
    by_category: dict[str, list[bool]] = defaultdict(list)
    by_assertion: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "passed": 0})
    violating = blocked = 0
    for case in cases:
        by_persona[case["persona"]].append(case["passed"])
        by_category[case["category"]].append(case["passed"])
        for turn in case["turns"]:
            blocked += sum(1 for d in turn["drafts"] if not d.get("allowed"))
            for check in turn["assertions"]:
                by_assertion[check["kind"]]["total"] += 1
                by_assertion[check["kind"]]["passed"] += bool(check["passed"])
                if check["kind"] == "no_violation_sent" and not check["passed"]:
                    violating += 1
    assertions = sum(v["total"] for v in by_assertion.values())
    passed = sum(1 for c in cases if c["passed"])
    return {
        "scenarios": len(cases),
        "passed": passed,
        "pass_rate": round(passed / max(len(cases), 1), 4),
        "assertions": assertions,
        "assertions_passed": sum(v["passed"] for v in by_assertion.values()),
        "violating_replies_sent": violating,
        "drafts_blocked": blocked,
        "by_persona": _rates(by_persona),
        "by_category": _rates(by_category),
        "by_assertion": dict(sorted(by_assertion.items())),
    }


def _rates(groups: dict[str, list[bool]]) -> dict[str, dict[str, Any]]:
    return {
        key: {
            "scenarios": len(values),
            "passed": sum(values),
            "pass_rate": round(sum(values) / len(values), 4),
        }
        for key, values in sorted(groups.items())
    }


def _guardrail(report: Any) -> dict[str, Any]:
    fn = len(report.misses)
    fp = len(report.false_positives)
    tp = report.violating - fn
    tn = report.compliant - fp
    return {
        "dataset": GUARD_DEV_SET.name,
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "recall": report.recall,
        "fpr": report.false_positive_rate,
        "over_block_rate": report.hard_negative_fpr,
        "by_category": {
            category: {"recall": recall} for category, recall in report.recall_by_category.items()
        },
    }


def _latency(runs: list[SuiteRun]) -> dict[str, Any]:
    nodes: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        for node, values in run.node_ms.items():
            nodes[node].extend(values)
    return {
        "turn": percentiles([t for run in runs for t in run.turn_ms]),
        "by_suite": {run.name: percentiles(run.turn_ms) for run in runs},
        "nodes": {node: percentiles(values) for node, values in sorted(nodes.items())},
    }


def _cost(runs: list[SuiteRun], base: Settings) -> dict[str, Any]:
    prices = yaml.safe_load(PRICES_FILE.read_text(encoding="utf-8"))["models"]
    prompt = completion = 0
    conversations = 0
    usd: float | None = None
    for run in runs:
        if not run.usage:
            continue
        conversations += sum(c["runs"] for c in run.cases)
        prompt += int(run.usage.get("prompt_tokens", 0))
        completion += int(run.usage.get("completion_tokens", 0))
        model = MOCK_MODEL if run.name == "scripted" else base.llm_model
        price = prices.get(model)
        if price is not None:
            usd = (usd or 0.0) + (
                run.usage.get("prompt_tokens", 0) * price["input_per_mtok"]
                + run.usage.get("completion_tokens", 0) * price["output_per_mtok"]
            ) / 1_000_000
    per = max(conversations, 1)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "tokens_per_conversation": round((prompt + completion) / per, 1),
        "estimated_usd_per_conversation": round(usd / per, 6) if usd is not None else None,
    }


def load_baseline(path: Path = BASELINE_FILE) -> dict[str, Any]:
    """The committed baseline (empty when there is none yet)."""
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def gates(report: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """The regression gates of one report against the baseline."""
    tolerance = float(baseline.get("tolerance", 0.02))
    out = [_gate("violating replies sent", report["summary"]["violating_replies_sent"], 0, "==")]
    for name, summary in report["suites"].items():
        floor = float(baseline.get("suites", {}).get(name, DEFAULT_PASS_RATE)) - tolerance
        out.append(_gate(f"{name} scenario pass rate", summary["pass_rate"], floor, ">="))
    out.append(_gate("guardrail recall (dev set)", report["guardrail"]["recall"], 0.97, ">="))
    out.append(_gate("guardrail false-positive rate", report["guardrail"]["fpr"], 0.03, "<="))
    retrieval_floor = max(0.90, float(baseline.get("retrieval_recall_at_3", 0.0)) - tolerance)
    out.append(
        _gate("retrieval recall@3", report["retrieval"]["recall_at_3"], retrieval_floor, ">=")
    )
    return out


def _gate(name: str, value: float, threshold: float, op: str) -> dict[str, Any]:
    passed = {
        ">=": value >= threshold,
        "<=": value <= threshold,
        "==": value == threshold,
    }[op]
    return {
        "name": name,
        "value": value,
        "threshold": round(threshold, 4),
        "op": op,
        "passed": passed,
    }


def baseline_from(report: dict[str, Any], tolerance: float = 0.02) -> dict[str, Any]:
    """A new baseline from a report (``santun eval --update-baseline``)."""
    return {
        "tolerance": tolerance,
        "suites": {name: s["pass_rate"] for name, s in report["suites"].items()},
        "retrieval_recall_at_3": report["retrieval"]["recall_at_3"],
        "guardrail_recall": report["guardrail"]["recall"],
        "from_commit": report["meta"]["git_commit"],
    }


def _git_commit() -> str | None:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
