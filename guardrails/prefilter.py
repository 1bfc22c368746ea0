"""A literal prefilter that skips rule patterns which cannot match a draft.

Several hundred patterns run on every draft, so most of the check's time would go into
regex scans that find nothing. Before a pattern runs, the prefilter asks a cheap question:
do the literal words the pattern REQUIRES occur in the draft at all? For
``\\b(?:kami|saya)\\s+...\\b(?:hubungi|telepon)`` one of "kami"/"saya" and one of
"hubungi"/"telepon" must be present, otherwise the pattern is skipped.

The requirements are derived from the compiled regex itself (never written by hand), and
they are conservative: a pattern whose requirements cannot be derived always runs, so the
prefilter changes speed only, never a verdict. Term patterns (``catalogue.term_pattern``,
masking-tolerant) are prefiltered one by one on the draft with repeated letters collapsed,
because terms also match doubled letters ("anjjing"); a draft with a masking star
("b*ngsat") runs every term.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from guardrails.catalogue import Rule

_KEY = 5  # literals of 5+ characters are indexed by their first 5 characters
_MIN = 3  # shorter literals by their first 3; literals under 3 characters are not used
_TERM_HEAD = "(?<![a-z*])"
_TERM_TAIL = "(?![a-z*])"
_TERM_CHAR = re.compile(r"\(\?:(.)\|\\\*\)\+")
_REPEATS = re.compile(r"(.)\1+")


def key(literal: str) -> str:
    """The index key of a literal of at least 3 characters."""
    return literal[:_KEY] if len(literal) >= _KEY else literal[:_MIN]


def _grams(text: str) -> frozenset[str]:
    last = len(text)
    return frozenset([text[i : i + _MIN] for i in range(last - _MIN + 1)]) | frozenset(
        [text[i : i + _KEY] for i in range(last - _KEY + 1)]
    )


@dataclass(frozen=True)
class Index:
    """The 3- and 5-character substrings of one normalised draft."""

    grams: frozenset[str]
    collapsed: frozenset[str]
    masked: bool

    @classmethod
    def of(cls, text: str) -> Index:
        """Index the draft as written and with repeated letters collapsed ("anjjing")."""
        grams = _grams(text)
        collapsed = _REPEATS.sub(r"\1", text)
        return cls(grams, grams if collapsed == text else _grams(collapsed), "*" in text)


@dataclass(frozen=True)
class Requirement:
    """Groups of literal keys; a match needs one key of every group in the draft's index."""

    groups: tuple[frozenset[str], ...]

    def may_match(self, index: Index) -> bool:
        """False only when the pattern certainly cannot match the indexed text."""
        return all(not group.isdisjoint(index.grams) for group in self.groups)


@dataclass(frozen=True)
class Term:
    """One term of a rule: its masking-tolerant regex, a faster one for unmasked text, its key."""

    masked: re.Pattern[str]
    plain: re.Pattern[str]
    key: str | None

    def regex(self, index: Index) -> re.Pattern[str] | None:
        """The regex to run on this draft, or None when the term cannot occur in it."""
        if index.masked:
            return self.masked
        if self.key is not None and self.key not in index.collapsed:
            return None
        return self.plain


def requirement(pattern: re.Pattern[str]) -> Requirement:
    """The literal requirement of one compiled rule pattern (no groups: always run)."""
    try:
        groups = _required(sre_parse.parse(pattern.pattern, pattern.flags))
    except (re.error, RecursionError):  # pragma: no cover - patterns are compiled already
        return Requirement(())
    return Requirement(tuple(sorted(set(groups), key=len)))


def split_terms(patterns: Iterable[re.Pattern[str]]) -> tuple[list[re.Pattern[str]], list[Term]]:
    """Split a rule's patterns into ordinary patterns and terms (``catalogue.term_pattern``)."""
    others: list[re.Pattern[str]] = []
    terms: list[Term] = []
    for pattern in patterns:
        source = pattern.pattern
        if not (source.startswith(_TERM_HEAD) and source.endswith(_TERM_TAIL)):
            others.append(pattern)
            continue
        body = source[len(_TERM_HEAD) : -len(_TERM_TAIL)]
        # without a "*" in the draft, "(?:b|\*)+" is just "b+" and the look-arounds agree
        plain = re.compile("(?<![a-z])" + _TERM_CHAR.sub(r"\1+", body) + "(?![a-z])")
        word = re.sub(r"\\(.)", r"\1", _TERM_CHAR.sub(r"\1", body))
        collapsed = _REPEATS.sub(r"\1", word)
        terms.append(Term(pattern, plain, key(collapsed) if len(collapsed) >= _MIN else None))
    return others, terms


def _required(items: Any) -> list[frozenset[str]]:
    """Literal key groups that every match of a parsed regex sequence must contain."""
    groups: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= _MIN:
            groups.append(frozenset({key("".join(run))}))
        run.clear()

    for op, arg in items:
        if op is sre_constants.LITERAL:
            run.append(chr(arg))
            continue
        flush()
        if op is sre_constants.SUBPATTERN:
            alternatives = _alternatives(arg[3])
            if alternatives is not None:
                groups.append(alternatives)
            else:
                groups.extend(_required(arg[3]))
        elif op is sre_constants.BRANCH:
            alternatives = _alternatives([(op, arg)])
            if alternatives is not None:
                groups.append(alternatives)
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and arg[0] >= 1:
            groups.extend(_required(arg[2]))
    flush()
    return groups


def _alternatives(items: Any) -> frozenset[str] | None:
    """For a branch: the keys of one required literal per alternative, if each has one."""
    items = list(items)
    if len(items) == 1 and items[0][0] is sre_constants.SUBPATTERN:
        return _alternatives(items[0][1][3])
    if len(items) != 1 or items[0][0] is not sre_constants.BRANCH:
        return None
    chosen: set[str] = set()
    for alternative in items[0][1][1]:
        required = _required(alternative)
        if not required:
            return None
        chosen.update(min(required, key=len))
    return frozenset(chosen)


class ScanPlan:
    """Every wording rule's patterns, indexed by the literal keys that trigger them."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        """Split terms from patterns and index both by one required key group each."""
        self._rules = list(rules)
        self._slots: list[tuple[int, re.Pattern[str], Requirement]] = []
        self._terms: list[tuple[int, Term]] = []
        self._always: set[int] = set()
        self._trigger: dict[str, list[int]] = {}
        self._term_trigger: dict[str, list[int]] = {}
        self._term_always: set[int] = set()
        for number, rule in enumerate(self._rules):
            others, terms = split_terms(rule.patterns)
            for pattern in others:
                needs = requirement(pattern)
                slot = len(self._slots)
                self._slots.append((number, pattern, needs))
                if not needs.groups:
                    self._always.add(slot)
                    continue
                trigger = max(needs.groups, key=lambda g: (min(map(len, g)), -len(g)))
                for literal in trigger:
                    self._trigger.setdefault(literal, []).append(slot)
            for term in terms:
                slot = len(self._terms)
                self._terms.append((number, term))
                if term.key is None:
                    self._term_always.add(slot)
                else:
                    self._term_trigger.setdefault(term.key, []).append(slot)
        self._keys = frozenset(self._trigger)
        self._term_keys = frozenset(self._term_trigger)

    def candidates(self, text: str) -> Iterator[tuple[Rule, list[re.Pattern[str]]]]:
        """Each rule with the patterns that may match the text, in catalogue order."""
        index = Index.of(text)
        slots = set(self._always)
        for literal in index.grams & self._keys:
            slots.update(self._trigger[literal])
        if index.masked:
            terms: set[int] = set(range(len(self._terms)))
        else:
            terms = set(self._term_always)
            for literal in index.collapsed & self._term_keys:
                terms.update(self._term_trigger[literal])
        per_rule: dict[int, list[re.Pattern[str]]] = {}
        for slot in sorted(slots):
            number, pattern, needs = self._slots[slot]
            if needs.may_match(index):
                per_rule.setdefault(number, []).append(pattern)
        for slot in sorted(terms):
            number, term = self._terms[slot]
            per_rule.setdefault(number, []).append(term.masked if index.masked else term.plain)
        for number in sorted(per_rule):
            yield self._rules[number], per_rule[number]
