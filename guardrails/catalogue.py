"""The rule catalogue: YAML files (one per category) loaded once into compiled rules."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).parent / "rules"
SETTINGS_FILE = "_settings.yaml"


@dataclass(frozen=True)
class Example:
    """A review example: a text and, for contextual rules, the context it is judged in."""

    text: str
    context: dict[str, Any] | None = None


@dataclass(frozen=True)
class Rule:
    """One rule: wording patterns (or a contextual check) plus review examples."""

    id: str
    category: str
    severity: str
    legal_basis: str
    description: str
    check: str
    negatable: bool
    patterns: tuple[re.Pattern[str], ...]
    exceptions: tuple[re.Pattern[str], ...]
    must_match: tuple[Example, ...]
    must_not_match: tuple[Example, ...]


@dataclass(frozen=True)
class Catalogue:
    """All rules plus the negation and stance settings."""

    rules: tuple[Rule, ...]
    negations: frozenset[str]
    auxiliaries: frozenset[str]
    negation_window: int
    stance: tuple[re.Pattern[str], ...]
    version: str

    @property
    def wording_rules(self) -> tuple[Rule, ...]:
        """The rules checked on wording alone."""
        return tuple(r for r in self.rules if r.check == "wording")


def term_pattern(term: str) -> str:
    """A regex for a word that tolerates masking ("b*ngsat") and doubled letters."""
    body = "".join(f"(?:{re.escape(c)}|\\*)+" if c.isalpha() else re.escape(c) for c in term)
    return rf"(?<![a-z*]){body}(?![a-z*])"


def _example(raw: Any) -> Example:
    if isinstance(raw, str):
        return Example(raw)
    return Example(str(raw["text"]), dict(raw.get("context") or {}))


def _compile(patterns: list[str], where: str) -> tuple[re.Pattern[str], ...]:
    try:
        return tuple(re.compile(p) for p in patterns)
    except re.error as exc:
        raise ValueError(f"{where}: invalid pattern: {exc}") from exc


def _rule(raw: dict[str, Any], category: str, where: str) -> Rule:
    try:
        patterns = list(raw.get("patterns", [])) + [term_pattern(t) for t in raw.get("terms", [])]
        check = str(raw.get("check", "wording"))
        if check == "wording" and not patterns:
            raise ValueError("a wording rule needs patterns or terms")
        return Rule(
            id=str(raw["id"]),
            category=category,
            severity=str(raw.get("severity", "block")),
            legal_basis=str(raw["legal_basis"]),
            description=str(raw["description"]),
            check=check,
            negatable=bool(raw.get("negatable", True)),
            patterns=_compile(patterns, f"{where} {raw.get('id')}"),
            exceptions=_compile(list(raw.get("exceptions", [])), f"{where} {raw.get('id')}"),
            must_match=tuple(_example(e) for e in raw.get("must_match", [])),
            must_not_match=tuple(_example(e) for e in raw.get("must_not_match", [])),
        )
    except KeyError as exc:
        raise ValueError(f"{where} {raw.get('id', '?')}: missing key {exc}") from exc


@lru_cache(maxsize=4)
def load_catalogue(directory: Path = RULES_DIR) -> Catalogue:
    """Load the settings file and every category file of a directory."""
    settings = yaml.safe_load((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
    rules: list[Rule] = []
    digest: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        digest.append(text)
        if path.name == SETTINGS_FILE:
            continue
        data = yaml.safe_load(text) or {}
        category = str(data.get("category", path.stem))
        rules.extend(_rule(raw, category, path.name) for raw in data.get("rules", []))
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate rule ids in {directory}")
    return Catalogue(
        rules=tuple(rules),
        negations=frozenset(settings.get("negations", [])),
        auxiliaries=frozenset(settings.get("auxiliaries", [])),
        negation_window=int(settings.get("negation_window", 4)),
        stance=_compile(list(settings.get("stance", [])), SETTINGS_FILE),
        version=f"{settings.get('version', '0')}+"
        + hashlib.sha256("".join(digest).encode()).hexdigest()[:12],
    )
