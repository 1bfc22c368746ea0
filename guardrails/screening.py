"""Screening of debtor messages: injection and role-play, abuse, distress, a third party."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from guardrails.normaliser import normalise

INPUT_RULES = Path(__file__).parent / "input_rules.yaml"
SIGNALS = ("injection", "abuse", "distress", "third_party")


@dataclass(frozen=True)
class Screening:
    """The signals found in one debtor message, with the text that raised each."""

    flags: frozenset[str]
    evidence: tuple[tuple[str, str], ...] = ()


@lru_cache(maxsize=1)
def _signals() -> dict[str, tuple[re.Pattern[str], ...]]:
    data = yaml.safe_load(INPUT_RULES.read_text(encoding="utf-8"))
    return {name: tuple(re.compile(p) for p in data["signals"].get(name, [])) for name in SIGNALS}


def screen_message(text: str) -> Screening:
    """Return the screening signals of a debtor message."""
    norm = normalise(text)
    flags: set[str] = set()
    evidence: list[tuple[str, str]] = []
    for name, patterns in _signals().items():
        for pattern in patterns:
            match = pattern.search(norm.text)
            if match:
                start, end = norm.span(match.start(), match.end())
                flags.add(name)
                evidence.append((name, text[start:end]))
                break
    return Screening(frozenset(flags), tuple(evidence))
