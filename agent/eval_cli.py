"""``santun eval``: the scenario suites, metrics, gates and the four report files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.config import Settings

err = Console(stderr=True)


def run_eval(
    settings: Settings,
    suites: list[str],
    variants: list[str],
    out: Path,
    *,
    repeat: int,
    concurrency: int,
    update_baseline: bool,
) -> int:
    """Run, report and gate; return the exit code (1 when a gate fails)."""
    from evals.evaluate import BASELINE_FILE, baseline_from, evaluate, gates, load_baseline
    from evals.report import write_comparison, write_reports
    from evals.scenarios import load_scenarios

    scenarios = load_scenarios()
    baseline = load_baseline()
    reviews = _reviews(settings)
    reports: dict[str, dict[str, Any]] = {}
    total = len(scenarios) * sum(1 if s == "offline" else repeat for s in suites) * len(variants)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("scenarios", total=total)
        for variant in variants:
            report = asyncio.run(
                evaluate(
                    scenarios,
                    suites,
                    variant,
                    settings,
                    repeat=repeat,
                    concurrency=concurrency,
                    progress=lambda: progress.advance(task),
                    reviews=reviews,
                )
            )
            report["gates"] = gates(report, baseline)
            report["passed"] = all(g["passed"] for g in report["gates"])
            reports[variant] = report
    out.mkdir(parents=True, exist_ok=True)
    if len(reports) == 1:
        paths = write_reports(next(iter(reports.values())), out)
    else:
        paths = write_comparison(reports, out)
    for variant, report in reports.items():
        s = report["summary"]
        err.print(
            f"[bold]{variant}[/]: {s['passed']}/{s['scenarios']} scenarios passed "
            f"({s['pass_rate']:.1%}), {s['violating_replies_sent']} violating replies sent, "
            f"gates {'passed' if report['passed'] else '[red]FAILED[/]'}"
        )
        for gate in report["gates"]:
            if not gate["passed"]:
                err.print(
                    f"  [red]gate failed[/]: {gate['name']} = {gate['value']} "
                    f"(needs {gate['op']} {gate['threshold']})"
                )
    err.print("Reports: " + ", ".join(str(p) for p in paths))
    if update_baseline:
        first = next(iter(reports.values()))
        BASELINE_FILE.write_text(json.dumps(baseline_from(first), indent=2) + "\n")
        err.print(f"Baseline written to {BASELINE_FILE}")
    return 0 if all(r["passed"] for r in reports.values()) else 1


def _reviews(settings: Settings) -> list[dict[str, Any]]:
    """Compliance officers' marks from the console's database, exported with the report."""
    from agent.storage.console import export_reviews

    return export_reviews(settings.resolved_database_url())
