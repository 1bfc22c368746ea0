"""``santun guard``: check texts from the command line or JSON lines on stdin."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from guardrails import ComplianceGuard, GuardContext


def judge(
    guard: ComplianceGuard, item_id: Any, text: str, context: GuardContext | None
) -> dict[str, Any]:
    """The output object of one input, as DESIGN.md fixes it."""
    verdict = guard.check(text, context)
    return {"id": item_id, **verdict.to_dict()}


def judge_line(guard: ComplianceGuard, number: int, line: str) -> dict[str, Any]:
    """Judge one JSON input line; a bad line yields an ``error`` object instead of a verdict."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        return {"id": None, "error": f"line {number}: invalid JSON: {exc}"}
    if not isinstance(data, dict):
        return {"id": None, "error": f"line {number}: expected a JSON object"}
    try:
        text, context = _parse(data)
    except (ValueError, TypeError) as exc:
        return {"id": data.get("id"), "error": f"line {number}: {exc}"}
    return judge(guard, data.get("id"), text, context)


def _parse(data: dict[str, Any]) -> tuple[str, GuardContext | None]:
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    raw_context = data.get("context")
    if raw_context is None:
        return text, None
    if not isinstance(raw_context, dict):
        raise ValueError('"context" must be an object')
    return text, GuardContext.from_json(raw_context)


def judge_lines(guard: ComplianceGuard, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Judge every non-blank input line, in order."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield judge_line(guard, number, line)
