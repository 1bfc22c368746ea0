"""NLU evaluation: load labelled utterance sets and measure intent and slot accuracy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import BaseModel

__all__ = [
    "DEV2_SET",
    "DEV_SET",
    "HOLDOUT_SET",
    "SLOT_KEYS",
    "NluError",
    "NluItem",
    "NluReport",
    "evaluate_nlu",
    "load_nlu_set",
]

_DATASETS = Path(__file__).resolve().parent / "datasets"
DEV_SET: Path = _DATASETS / "nlu_dev.yaml"
DEV2_SET: Path = _DATASETS / "nlu_dev2.yaml"
HOLDOUT_SET: Path = _DATASETS / "nlu_holdout.yaml"
SLOT_KEYS: tuple[str, ...] = ("amount", "date", "tenor", "last4", "birth_date")


class NluItem(BaseModel, frozen=True):
    """One labelled utterance; ``today`` is the set's reference date."""

    text: str
    intent: str
    style: str
    slots: dict[str, str | int] = {}
    today: date


class NluError(BaseModel, frozen=True):
    """One misclassified item or slot mismatch."""

    text: str
    expected_intent: str
    predicted_intent: str
    slot_mismatches: dict[str, tuple[str | None, str | None]] = {}


class NluReport(BaseModel, frozen=True):
    """Aggregate evaluation results."""

    total: int
    accuracy: float
    per_intent: dict[str, float]
    per_style: dict[str, float]
    slot_accuracy: dict[str, float]
    slot_support: dict[str, int]
    confusion: list[tuple[str, str, int]]
    errors: list[NluError]


class _Prediction(Protocol):
    """The part of an understanding result that the evaluator reads."""

    @property
    def intent(self) -> str:
        """Predicted intent."""
        ...

    @property
    def slots(self) -> Any:
        """Predicted slots object with attributes named like ``SLOT_KEYS``."""
        ...


def load_nlu_set(path: Path | str) -> list[NluItem]:
    """Load a labelled NLU set (``items`` + ``reference_now``) from YAML.

    Args:
        path: Path of the YAML dataset.

    Returns:
        The items, each carrying the set's reference date.
    """
    data: Mapping[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    today = datetime.fromisoformat(str(data["reference_now"])).date()
    items: list[NluItem] = []
    for raw in data["items"]:
        slots = {
            str(k): v if isinstance(v, int) else str(v) for k, v in (raw.get("slots") or {}).items()
        }
        items.append(
            NluItem(
                text=raw["text"], intent=raw["intent"], style=raw["style"], slots=slots, today=today
            )
        )
    return items


def _as_text(value: object) -> str | None:
    """Render a slot value for exact comparison (dates as ISO strings)."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _ratio(hits: Counter[str], totals: Counter[str]) -> dict[str, float]:
    """Per-key accuracy from hit and total counters."""
    return {key: round(hits[key] / totals[key], 4) for key in sorted(totals)}


def _slot_mismatches(item: NluItem, pred: _Prediction) -> dict[str, tuple[str | None, str | None]]:
    """Compare gold and predicted slots on ``SLOT_KEYS`` (missing and spurious both count)."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for key in SLOT_KEYS:
        gold = _as_text(item.slots.get(key))
        got = _as_text(getattr(pred.slots, key, None))
        if gold != got:
            out[key] = (gold, got)
    return out


def _tally(
    item: NluItem,
    pred: _Prediction,
    hits: dict[str, Counter[str]],
    totals: dict[str, Counter[str]],
) -> NluError | None:
    """Update hit/total counters for one item; return an error record if anything is wrong."""
    ok = pred.intent == item.intent
    mismatches = _slot_mismatches(item, pred)
    for kind, key in (("intent", item.intent), ("style", item.style)):
        totals[kind][key] += 1
        hits[kind][key] += ok
    for key in SLOT_KEYS:
        if key in item.slots or getattr(pred.slots, key, None) is not None:
            totals["slot"][key] += 1
            hits["slot"][key] += key not in mismatches
    if ok and not mismatches:
        return None
    return NluError(
        text=item.text,
        expected_intent=item.intent,
        predicted_intent=pred.intent,
        slot_mismatches=mismatches,
    )


def evaluate_nlu(
    items: list[NluItem], understand_fn: Callable[[str, date], _Prediction]
) -> NluReport:
    """Run ``understand_fn`` over ``items`` and compute intent and slot metrics.

    Slot accuracy for a key counts the items where the key is labelled or predicted,
    so both missed and spurious slots are errors.

    Args:
        items: Labelled items (see ``load_nlu_set``).
        understand_fn: ``(text, today) -> prediction`` with ``intent`` and ``slots``.

    Returns:
        The evaluation report.
    """
    hits: dict[str, Counter[str]] = {"intent": Counter(), "style": Counter(), "slot": Counter()}
    totals: dict[str, Counter[str]] = {"intent": Counter(), "style": Counter(), "slot": Counter()}
    confusion: Counter[tuple[str, str]] = Counter()
    errors: list[NluError] = []
    for item in items:
        pred = understand_fn(item.text, item.today)
        error = _tally(item, pred, hits, totals)
        if error is not None:
            errors.append(error)
            if error.expected_intent != error.predicted_intent:
                confusion[(error.expected_intent, error.predicted_intent)] += 1
    return NluReport(
        total=len(items),
        accuracy=round(sum(hits["intent"].values()) / len(items), 4) if items else 0.0,
        per_intent=_ratio(hits["intent"], totals["intent"]),
        per_style=_ratio(hits["style"], totals["style"]),
        slot_accuracy=_ratio(hits["slot"], totals["slot"]),
        slot_support=dict(sorted(totals["slot"].items())),
        confusion=[(g, p, n) for (g, p), n in confusion.most_common()],
        errors=errors,
    )
