"""Rule-based, deterministic intent classification and slot filling for debtor messages."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from agent.engines.offline.classifier import NaiveBayes, features, load_model
from agent.engines.offline.normalise import normalise
from agent.engines.offline.slots import (
    amount_from_normalised,
    birth_date_from_normalised,
    last4_from_normalised,
    parse_choice,
    parse_date,
    parse_tenor,
)

__all__ = ["INTENTS", "Slots", "Understanding", "understand", "understand_with"]


class Slots(BaseModel, frozen=True):
    """Slots extracted from one message (only those relevant to the intent are filled)."""

    amount: int | None = None
    date: dt.date | None = None
    tenor: int | None = None
    last4: str | None = None
    birth_date: dt.date | None = None
    ordinal: int | None = None
    plan: str | None = None


class Understanding(BaseModel, frozen=True):
    """Result of understanding one message."""

    intent: str
    slots: Slots
    confidence: float
    matched: list[str] = []
    alternative: str | None = None  # the best other intent the rules found, if any


@dataclass(frozen=True)
class _Rule:
    """One compiled weighted pattern."""

    rule_id: str
    intent: str
    weight: float
    regex: re.Pattern[str]


def _compile_rule(intent: str, spec: dict[str, Any]) -> _Rule:
    """Compile a YAML pattern spec (``re`` or ``any``) into a rule."""
    if "re" in spec:
        source = str(spec["re"])
    else:
        words = sorted((str(w) for w in spec["any"]), key=len, reverse=True)
        source = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"
    return _Rule(f"{intent}.{spec['id']}", intent, float(spec["w"]), re.compile(source))


_CONFIG: dict[str, Any] = yaml.safe_load(
    Path(__file__).with_name("intents.yaml").read_text(encoding="utf-8")
)
_SETTINGS: dict[str, Any] = _CONFIG["settings"]
INTENTS: tuple[str, ...] = tuple(_CONFIG["intents"])
_RULES: tuple[_Rule, ...] = tuple(
    _compile_rule(intent, spec) for intent, specs in _CONFIG["intents"].items() for spec in specs
)
_THRESHOLD = float(_SETTINGS["threshold"])
_VERIFY_BONUS = float(_SETTINGS["verify_data_weight"])
_OVERRIDE: tuple[str, ...] = tuple(_SETTINGS["override"])
_DOMINANT = str(_SETTINGS["dominant"])
_FALLBACK = str(_SETTINGS["fallback"])
_CLASSIFIER: dict[str, float] = {k: float(v) for k, v in _SETTINGS["classifier"].items()}
_BENIGN_DISTRESS = re.compile(str(_SETTINGS["distress_benign"]))
_MODEL: NaiveBayes | None = load_model()
_AMOUNT_INTENTS = frozenset({"promise_to_pay", "already_paid", "dispute", "cannot_pay"})
_PLAN_INTENTS = frozenset({"ask_plans", "choose_plan"})


def _score(norm: str) -> tuple[dict[str, float], list[str]]:
    """Sum rule weights per intent and collect fired rule ids."""
    scores = dict.fromkeys(INTENTS, 0.0)
    fired: list[str] = []
    for rule in _RULES:
        if rule.regex.search(norm):
            scores[rule.intent] += rule.weight
            fired.append(rule.rule_id)
    return scores, fired


def _pick(scores: dict[str, float]) -> str:
    """Apply the priority rules and return the winning intent."""
    for intent in _OVERRIDE:
        if scores[intent] >= _THRESHOLD:
            return intent
    best = max(INTENTS, key=lambda name: scores[name])  # first in YAML order wins ties
    dominant = scores[_DOMINANT]
    if dominant >= _THRESHOLD and dominant >= scores[best]:
        return _DOMINANT
    return best if scores[best] >= _THRESHOLD else _FALLBACK


def _blend(norm: str, rule_intent: str, scores: dict[str, float], probs: dict[str, float]) -> str:
    """Combine the rules' pick with the classifier's posterior (``settings.classifier``).

    The rules win when they are confident; the classifier decides when no rule reached the
    threshold, and a likely-distress reading always wins (safety first).
    """
    if rule_intent == "distress":
        return rule_intent
    if _BENIGN_DISTRESS.search(norm):  # "HP mati", "mati lampu": the rules alone decide
        probs = {**probs, "distress": 0.0}
    elif probs["distress"] >= _CLASSIFIER["distress_min"]:
        return "distress"
    if scores[rule_intent] >= _CLASSIFIER["rules_strong"]:
        return rule_intent
    top = max(probs, key=lambda name: probs[name])
    if max(scores.values()) < _THRESHOLD:
        return top if probs[top] >= _CLASSIFIER["fallback_min"] else _FALLBACK
    return top if probs[top] >= _CLASSIFIER["override_min"] else rule_intent


def _fill_slots(intent: str, text: str, today: dt.date, verify_data: tuple[Any, Any]) -> Slots:
    """Fill only the slots relevant to ``intent``."""
    values: dict[str, Any] = {}
    if intent == "verify":
        values["last4"], values["birth_date"] = verify_data
    if intent in _AMOUNT_INTENTS:
        values["amount"] = amount_from_normalised(text)
    if intent == "promise_to_pay":
        values["date"] = parse_date(text, today)
    if intent in _PLAN_INTENTS:
        values["tenor"] = parse_tenor(text)
        values["ordinal"], values["plan"] = parse_choice(text)
    return Slots(**values)


def _confidence(scores: dict[str, float], intent: str) -> float:
    """Margin-based confidence in [0, 1]."""
    best = scores.get(intent, 0.0)
    if best <= 0.0:
        return 0.3
    runner_up = max((v for k, v in scores.items() if k != intent), default=0.0)
    return round(best / (best + runner_up + 1.0), 3)


def understand(text: str, today: dt.date) -> Understanding:
    """Classify a debtor message and extract its slots.

    Args:
        text: The raw user message.
        today: Reference date used to resolve relative payment dates.

    Returns:
        The intent, slots, a confidence score and the ids of the rules that fired
        (``classifier.<intent>`` when the statistical fallback decided).
    """
    return understand_with(text, today, _MODEL)


def understand_with(text: str, today: dt.date, model: NaiveBayes | None) -> Understanding:
    """Same as ``understand`` with an explicit classifier (None = rules only).

    Args:
        text: The raw user message.
        today: Reference date used to resolve relative payment dates.
        model: The fallback classifier (cross-validation passes fold models).

    Returns:
        The understanding of the message.
    """
    norm = normalise(text)
    scores, fired = _score(norm)
    last4, birth = last4_from_normalised(norm), birth_date_from_normalised(norm, today)
    if last4 is not None or birth is not None:
        scores["verify"] += _VERIFY_BONUS
        fired.append("verify.data")
    intent = _pick(scores)
    confidence = _confidence(scores, intent)
    if model is not None and features(norm):
        probs = model.scores(norm)
        blended = _blend(norm, intent, scores, probs)
        if blended != intent:
            intent, confidence = blended, round(probs[blended], 3)
            fired.append(f"classifier.{intent}")
    fired.sort(key=lambda rule_id: not rule_id.startswith(intent + "."))
    slots = _fill_slots(intent, norm, today, (last4, birth))
    others = [name for name in INTENTS if name != intent and scores[name] >= _THRESHOLD]
    alternative = max(others, key=lambda name: scores[name]) if others else None
    return Understanding(
        intent=intent,
        slots=slots,
        confidence=confidence,
        matched=fired,
        alternative=alternative,
    )
