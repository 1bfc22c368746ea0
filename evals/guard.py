"""Guardrail evaluation on the labelled dev set: recall, false positives, per category."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from guardrails import ComplianceGuard, GuardContext

GUARD_DEV_SET = Path(__file__).resolve().parent / "datasets" / "guard_dev.yaml"


class GuardItem(BaseModel):
    """One labelled bot-voice sentence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str
    violating: bool
    rule: str | None = None
    category: str | None = None
    style: str = "formal"
    hard_negative: bool = False
    topic: str | None = None
    context: dict[str, Any] | None = None


class GuardMiss(BaseModel):
    """A sentence the guardrail judged wrongly."""

    id: str
    text: str
    expected: str
    fired: list[str]


class GuardReport(BaseModel):
    """Aggregate guardrail metrics."""

    violating: int
    compliant: int
    recall: float
    false_positive_rate: float
    hard_negative_fpr: float
    rule_match_rate: float
    recall_by_category: dict[str, float]
    recall_by_style: dict[str, float]
    misses: list[GuardMiss]
    false_positives: list[GuardMiss]


def load_guard_set(path: Path = GUARD_DEV_SET) -> list[GuardItem]:
    """Read a labelled guardrail set."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [GuardItem.model_validate(item) for item in data["items"]]


def _rate(hits: Counter[str], totals: Counter[str]) -> dict[str, float]:
    return {key: round(hits[key] / totals[key], 4) for key in sorted(totals)}


def evaluate_guard(items: list[GuardItem], guard: ComplianceGuard | None = None) -> GuardReport:
    """Judge every item and aggregate recall and false-positive rates."""
    guard = guard or ComplianceGuard()
    caught: Counter[str] = Counter()
    by_cat: Counter[str] = Counter()
    caught_style: Counter[str] = Counter()
    by_style: Counter[str] = Counter()
    same_rule = 0
    misses: list[GuardMiss] = []
    false_pos: list[GuardMiss] = []
    hard = hard_fp = 0
    for item in items:
        context = GuardContext.from_json(item.context) if item.context is not None else None
        verdict = guard.check(item.text, context)
        fired = [v.rule for v in verdict.violations]
        if item.violating:
            category = item.category or "?"
            by_cat[category] += 1
            by_style[item.style] += 1
            if not verdict.allowed:
                caught[category] += 1
                caught_style[item.style] += 1
                same_rule += item.rule in fired
            else:
                misses.append(
                    GuardMiss(id=item.id, text=item.text, expected=item.rule or "", fired=fired)
                )
        else:
            hard += item.hard_negative
            if not verdict.allowed:
                hard_fp += item.hard_negative
                false_pos.append(
                    GuardMiss(id=item.id, text=item.text, expected="allowed", fired=fired)
                )
    violating = sum(by_cat.values())
    compliant = len(items) - violating
    return GuardReport(
        violating=violating,
        compliant=compliant,
        recall=round(sum(caught.values()) / max(violating, 1), 4),
        false_positive_rate=round(len(false_pos) / max(compliant, 1), 4),
        hard_negative_fpr=round(hard_fp / max(hard, 1), 4),
        rule_match_rate=round(same_rule / max(sum(caught.values()), 1), 4),
        recall_by_category=_rate(caught, by_cat),
        recall_by_style=_rate(caught_style, by_style),
        misses=misses,
        false_positives=false_pos,
    )
