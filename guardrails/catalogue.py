"""The rule catalogue: YAML data loaded once into compiled rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).parent / "rules"


@dataclass(frozen=True)
class WordingRule:
    """A wording rule with its compiled patterns and review examples."""

    id: str
    category: str
    severity: str
    legal_basis: str
    description: str
    negatable: bool
    patterns: tuple[re.Pattern[str], ...]
    must_match: tuple[str, ...]
    must_not_match: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """All wording rules plus the negation settings."""

    rules: tuple[WordingRule, ...]
    negations: frozenset[str]
    auxiliaries: frozenset[str]
    negation_window: int


def _rule(raw: dict[str, Any]) -> WordingRule:
    return WordingRule(
        id=str(raw["id"]),
        category=str(raw["category"]),
        severity=str(raw.get("severity", "block")),
        legal_basis=str(raw["legal_basis"]),
        description=str(raw["description"]),
        negatable=bool(raw.get("negatable", True)),
        patterns=tuple(re.compile(p, re.IGNORECASE) for p in raw["patterns"]),
        must_match=tuple(raw.get("must_match", [])),
        must_not_match=tuple(raw.get("must_not_match", [])),
    )


@lru_cache(maxsize=4)
def load_catalogue(directory: Path = RULES_DIR) -> Catalogue:
    """Load every ``*.yaml`` rule file of a directory."""
    rules: list[WordingRule] = []
    negations: set[str] = set()
    auxiliaries: set[str] = set()
    window = 4
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        try:
            rules.extend(_rule(raw) for raw in data.get("rules", []))
        except (KeyError, re.error) as exc:
            raise ValueError(f"{path.name}: invalid rule: {exc}") from exc
        negations.update(data.get("negations", []))
        auxiliaries.update(data.get("auxiliaries", []))
        window = int(data.get("negation_window", window))
    return Catalogue(tuple(rules), frozenset(negations), frozenset(auxiliaries), window)
