"""Report writers of ``santun eval``: HTML, JSON, Markdown and JUnit for a run or a comparison.

The HTML is one self-contained file (inline CSS and SVG, no script, no external resource) that a
compliance officer can read, print and sign off. Every value reaches it through Jinja's
autoescape, so debtor text and tool results are shown, never interpreted.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_FILES = ("report.html", "report.json", "summary.md", "junit.xml")

# key, label, dotted path in the report, format, which direction is better ("" = neither)
METRICS = (
    ("pass_rate", "Scenario pass rate", "summary.pass_rate", "pct", "up"),
    (
        "violating_replies_sent",
        "Violating replies sent",
        "summary.violating_replies_sent",
        "int",
        "down",
    ),
    ("drafts_blocked", "Drafts blocked", "summary.drafts_blocked", "int", ""),
    ("guard_recall", "Guardrail recall", "guardrail.recall", "pct", "up"),
    ("guard_fpr", "Guardrail false-positive rate", "guardrail.fpr", "pct", "down"),
    ("over_block_rate", "Over-block rate", "guardrail.over_block_rate", "pct", "down"),
    ("recall_at_3", "Retrieval recall@3", "retrieval.recall_at_3", "pct", "up"),
    ("mrr", "Retrieval MRR", "retrieval.mrr", "num", "up"),
    ("turn_p50_ms", "Turn latency p50", "latency.turn.p50_ms", "ms", "down"),
    ("turn_p95_ms", "Turn latency p95", "latency.turn.p95_ms", "ms", "down"),
    ("tokens", "Tokens per conversation", "cost.tokens_per_conversation", "num", "down"),
    ("usd", "Est. USD per conversation", "cost.estimated_usd_per_conversation", "usd", "down"),
)


def write_reports(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write ``report.html``, ``report.json``, ``summary.md`` and ``junit.xml`` for one run.

    Args:
        report: The runner's report (``meta``, ``summary``, ``gates``, ``cases`` ...).
        out_dir: The directory to write to; created if missing.

    Returns:
        The four paths written, in the order of ``REPORT_FILES``.
    """
    view = _run_view(report)
    html, markdown = _render("report.html", view), _render("summary.md.j2", view)
    return _write(out_dir, html, report, markdown, _junit([("", report)]))


def write_comparison(reports: dict[str, dict[str, Any]], out_dir: Path) -> list[Path]:
    """Write the side-by-side comparison of two or more variants' reports.

    Args:
        reports: Each variant's report, keyed by variant name; the first is the baseline.
        out_dir: The directory to write to; created if missing.

    Returns:
        The four paths written, in the order of ``REPORT_FILES``.
    """
    comparison = compare(reports)
    data = {"variants": comparison["variants"], "reports": reports}
    data |= {"flipped": comparison["flipped"], "deltas": comparison["deltas"]}
    view = _comparison_view(reports, comparison)
    html, markdown = _render("comparison.html", view), _render("comparison.md.j2", view)
    return _write(out_dir, html, data, markdown, _junit(list(reports.items())))


def compare(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Compare variants' reports against the first one (the baseline).

    Args:
        reports: Each variant's report, keyed by variant name, in display order.

    Returns:
        ``variants`` (names in order), ``flipped`` (cases whose pass/fail differs between
        variants: ``id``, ``title``, ``persona``, ``category``, and per variant ``passed``
        (``None`` when not run) and ``failures``) and ``deltas``: the ``baseline`` name and,
        for each headline metric (``metrics``), category (``by_category``) and persona
        (``by_persona``), every other variant's value minus the baseline's (pass rates for
        the groups; ``None`` when either side lacks it).

    Raises:
        ValueError: When no report is given.
    """
    if not reports:
        raise ValueError("compare needs at least one report")
    variants = list(reports)
    deltas: dict[str, Any] = {"baseline": variants[0], "metrics": {}}
    for key, _label, path, _fmt, _better in METRICS:
        deltas["metrics"][key] = _delta(
            [_dig(reports[v], *path.split(".")) for v in variants], variants
        )
    for group in ("by_category", "by_persona"):
        names = dict.fromkeys(n for v in variants for n in _dig(reports[v], "summary", group) or {})
        deltas[group] = {
            name: _delta(
                [_dig(reports[v], "summary", group, name, "pass_rate") for v in variants], variants
            )
            for name in names
        }
    flipped = [row for row in _case_rows(reports) if len(set(row["passed"].values()) - {None}) > 1]
    return {"variants": variants, "flipped": flipped, "deltas": deltas}


def _write(
    out_dir: Path, html: str, data: dict[str, Any], markdown: str, junit: ET.Element
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in REPORT_FILES]
    paths[0].write_text(html, encoding="utf-8")
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    paths[1].write_text(text + "\n", encoding="utf-8")
    paths[2].write_text(markdown, encoding="utf-8")
    ET.indent(junit)
    ET.ElementTree(junit).write(paths[3], encoding="utf-8", xml_declaration=True)
    return paths


@cache
def _env() -> Environment:
    # HTML is autoescaped; the Markdown summary (*.md.j2) escapes through its ``md`` filter.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters |= {"fmt": _fmt, "signed": _signed, "compact": _compact}
    env.filters |= {"md": _md, "failure": _failure_line, "clip": _clip, "pretty": _pretty}
    return env


def _render(name: str, view: dict[str, Any]) -> str:
    return _env().get_template(name).render(r=view, c=view)


# --- views -------------------------------------------------------------------------------------


def _run_view(report: dict[str, Any]) -> dict[str, Any]:
    """The report with its headline metrics, cases split failures first, reviews attached."""
    reviews = _by_case(report.get("reviews", []))
    errors = _by_case(report.get("judge_errors", []))
    cases = [
        case | {"reviews": reviews.get(case["id"], []), "judge_errors": errors.get(case["id"], [])}
        for case in report.get("cases", [])
    ]
    metrics = [
        {
            "key": key,
            "label": label,
            "value": _dig(report, *path.split(".")),
            "fmt": fmt,
            "better": better,
        }
        for key, label, path, fmt, better in METRICS
    ]
    for metric in metrics:
        if metric["key"] == "violating_replies_sent":
            metric["status"] = "bad" if metric["value"] else "good"
    return report | {
        "metrics": [m for m in metrics if _shown(m["key"], [m["value"]])],
        "has_cost": _shown("tokens", [_dig(report, "cost", "tokens_per_conversation")]),
        "failed_cases": [c for c in cases if not c.get("passed")],
        "passed_cases": [c for c in cases if c.get("passed")],
    }


def _comparison_view(
    reports: dict[str, dict[str, Any]], comparison: dict[str, Any]
) -> dict[str, Any]:
    variants: list[str] = comparison["variants"]
    flipped = {row["id"] for row in comparison["flipped"]}
    rest = [row for row in _case_rows(reports) if row["id"] not in flipped]
    rest.sort(key=lambda row: False not in row["passed"].values())
    metas = [reports[v].get("meta") or {} for v in variants]
    datasets = {json.dumps(meta.get("datasets"), sort_keys=True) for meta in metas}
    passing = sum(bool(reports[v].get("passed")) for v in variants)
    groups = {
        group: [
            {"name": name, "delta": delta}
            | {"by_variant": {v: _dig(reports[v], "summary", group, name) for v in variants}}
            for name, delta in comparison["deltas"][group].items()
        ]
        for group in ("by_category", "by_persona")
    }
    return (
        comparison
        | groups
        | {
            "reports": reports,
            "metas": metas,
            "metrics": _metric_rows(reports, comparison["deltas"]["metrics"]),
            "datasets_differ": len(datasets) > 1,
            "passing_variants": passing,
            "all_passed": passing == len(variants),
            "gates": _gate_rows(reports),
            "case_index": {v: {c["id"]: c for c in reports[v].get("cases", [])} for v in variants},
            "rest": rest,
        }
    )


def _metric_rows(
    reports: dict[str, dict[str, Any]], deltas: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each headline metric some variant has, with every variant's value and delta."""
    rows = [
        {"key": key, "label": label, "fmt": fmt, "better": better, "delta": deltas[key]}
        | {"by_variant": {v: _dig(report, *path.split(".")) for v, report in reports.items()}}
        for key, label, path, fmt, better in METRICS
    ]
    return [row for row in rows if _shown(row["key"], list(row["by_variant"].values()))]


def _gate_rows(reports: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per gate name, with each variant's gate (``None`` if it has no such gate)."""
    rows: dict[str, dict[str, Any]] = {}
    for variant, report in reports.items():
        for gate in report.get("gates", []):
            rows.setdefault(gate["name"], gate | {"by_variant": dict.fromkeys(reports)})
            rows[gate["name"]]["by_variant"][variant] = gate
    return list(rows.values())


def _case_rows(reports: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every case id across the variants, with each variant's outcome and failures."""
    rows: dict[str, dict[str, Any]] = {}
    for variant, report in reports.items():
        for case in report.get("cases", []):
            row = rows.setdefault(
                case["id"],
                {key: case.get(key) for key in ("id", "title", "persona", "category")}
                | {"passed": dict.fromkeys(reports), "failures": {v: [] for v in reports}},
            )
            row["passed"][variant] = bool(case.get("passed"))
            row["failures"][variant] = case.get("failures", [])
    return list(rows.values())


def _delta(values: list[Any], variants: list[str]) -> dict[str, float | None]:
    """Each non-baseline variant's value minus the baseline's (the first)."""
    first = values[0]
    return {
        v: None if first is None or value is None else round(value - first, 6)
        for v, value in zip(variants[1:], values[1:], strict=True)
    }


def _failure_line(failure: dict[str, Any], limit: int = 160) -> str:
    """``turn 2 `reply_not_contains`: expected ..., got ...`` on one line."""
    expected = _clip(_compact(failure.get("expected")), limit)
    actual = _clip(_compact(failure.get("actual")), limit)
    turn, assertion = failure.get("turn"), failure.get("assertion")
    return f"turn {turn} `{assertion}`: expected {expected}, got {actual}"


# --- JUnit -------------------------------------------------------------------------------------


def _junit(runs: list[tuple[str, dict[str, Any]]]) -> ET.Element:
    """``<testsuites>`` with one ``<testsuite>`` per run (per variant of a comparison)."""
    root = ET.Element("testsuites", name="santun.eval")
    suites = [_testsuite(variant, report) for variant, report in runs]
    root.extend(suites)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in suites)))
    root.set("time", f"{sum(float(suite.get('time', '0')) for suite in suites):.3f}")
    return root


def _testsuite(variant: str, report: dict[str, Any]) -> ET.Element:
    meta = report.get("meta") or {}
    name = meta.get("suite") or "eval"
    judged = _by_case(report.get("judge_errors", []))
    cases = [_testcase(name, case, judged) for case in report.get("cases", [])]
    suite = ET.Element("testsuite", name=f"santun.eval.{name}.{variant or meta.get('variant')}")
    suite.attrib |= {"tests": str(len(cases)), "skipped": "0"}
    for kind in ("failures", "errors"):
        suite.set(kind, str(sum(case.find(kind[:-1]) is not None for case in cases)))
    suite.set("time", f"{sum(map(_seconds, report.get('cases', []))):.3f}")
    if meta.get("generated_at"):
        suite.set("timestamp", str(meta["generated_at"]))
    props = ET.SubElement(suite, "properties")
    for key in ("variant", "engine", "model", "git_commit", "prompt_version", "guard_version"):
        ET.SubElement(props, "property", name=key, value=str(meta.get(key) or ""))
    ET.SubElement(props, "property", name="gates_passed", value=str(bool(report.get("passed"))))
    suite.extend(cases)
    return suite


def _testcase(
    suite: str, case: dict[str, Any], judged: dict[str, list[dict[str, Any]]]
) -> ET.Element:
    """A failed case gets a ``<failure>`` (judge errors noted); judge error alone: ``<error>``."""
    suite = case.get("suite") or suite  # a multi-suite run names each case's own suite
    node = ET.Element("testcase", classname=f"santun.eval.{suite}.{case.get('persona')}")
    node.attrib |= {"name": str(case["id"]), "time": f"{_seconds(case):.3f}"}
    lines = [] if case.get("passed") else [_failure_line(f) for f in case.get("failures", [])]
    lines += [f"judge error: {e.get('error')}" for e in judged.get(str(case["id"]), [])]
    kind = "failure" if not case.get("passed") else "error" if lines else ""
    if kind:
        element = ET.SubElement(node, kind, message=_clip("; ".join(lines) or "failed", 500))
        element.set("type", "AssertionError" if kind == "failure" else "JudgeError")
        element.text = "\n".join(lines)
    return node


# --- helpers -----------------------------------------------------------------------------------


def _shown(key: str, values: list[Any]) -> bool:
    """Whether a metric is worth a row: present, and tokens only when a model was called."""
    return any(v is not None and (v or key != "tokens") for v in values)


def _seconds(case: dict[str, Any]) -> float:
    return float(sum(turn.get("latency_ms", 0.0) for turn in case.get("turns", []))) / 1000


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _by_case(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        out.setdefault(str(item.get("case_id")), []).append(item)
    return out


def _fmt(value: Any, fmt: str = "num") -> str:
    """A number for people: ``pct`` 0.667 -> 66.7%, ``ms``, ``usd``, or plain with separators."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if fmt == "pct":
        return f"{value * 100:.1f}%"
    if fmt == "ms":
        return f"{value:,.1f} ms"
    if fmt == "usd":
        return f"${value:.4f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _signed(value: Any, fmt: str = "num") -> str:
    """A delta with its sign; rates in percentage points."""
    if value is None:
        return "—"
    if not value:
        return "±0"
    sign = "+" if value > 0 else "−"
    if fmt == "pct":
        return f"{sign}{abs(value) * 100:.1f} pp"
    return sign + _fmt(abs(value), fmt)


def _compact(value: Any) -> str:
    """Compact one-line JSON, Indonesian text kept readable."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _md(value: Any) -> str:
    """Text safe inside a Markdown table cell, and inert if the Markdown is shown as HTML."""
    text = " ".join(str(value).split())
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
