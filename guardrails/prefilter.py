r"""A literal prefilter that skips rule patterns which cannot match a draft.

Several hundred patterns run on every draft, so most of the check's time would go into
regex scans that find nothing. Before a pattern runs, the prefilter asks a cheap question:
do the literal words the pattern REQUIRES occur in the draft at all? For
``\b(?:kami|saya)\s+...\b(?:hubungi|telepon)`` one of "kami"/"saya" and one of
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
# Frequent in ordinary drafts, so poor triggers; only used to pick a rarer literal (speed).
_COMMON = frozenset(
    "tidak tak kami saya anda kamu akan bisa dapat yang dan ini itu ada untuk dengan bapak ibu "
    "sudah juga saja dari kalau jika hari pada atau agar kan mohon terima kasih tagihan bayar "
    "pembayaran membayar sebelum sampai karena bila harus perlu hanya nanti sekarang".split()
)


def _rarity(literal: str) -> tuple[bool, bool, int]:
    """Sort key: uncommon, word-start and long literals first."""
    bare = literal.lstrip("^")
    return (bare in _COMMON_KEYS, not literal.startswith("^"), -len(bare))


def key(literal: str) -> str:
    """The index key of a literal of at least 3 characters."""
    return literal[:_KEY] if len(literal) >= _KEY else literal[:_MIN]


_COMMON_KEYS = frozenset(key(word) for word in _COMMON if len(word) >= _MIN)


# the (up to) 5 characters at each position where a word, or a word of a term, starts
_WORD_START = re.compile(r"\b(?=\w)(?=(.{1,5}))", re.DOTALL)
_TERM_START = re.compile(r"(?<![a-z*])(?=[a-z])(?=(.{1,5}))", re.DOTALL)


def _starts(text: str, where: re.Pattern[str] = _WORD_START) -> frozenset[str]:
    """Keys of the 3 and 5 characters at every word start, marked with "^"."""
    heads = where.findall(text)
    return frozenset(["^" + head for head in heads] + ["^" + head[:_MIN] for head in heads])


@dataclass(frozen=True)
class Index:
    """A normalised draft prepared for requirement tests."""

    text: str
    starts: frozenset[str]
    collapsed: frozenset[str]
    masked: bool

    @classmethod
    def of(cls, text: str) -> Index:
        """Word-start keys of the draft, and of the draft with repeats collapsed ("anjjing")."""
        collapsed = _REPEATS.sub(r"\1", text)
        return cls(text, _starts(text), _starts(collapsed, _TERM_START), "*" in text)

    def has(self, literal: str) -> bool:
        """Whether a key ("^" for a word start) occurs in the draft."""
        return literal in self.starts if literal[0] == "^" else literal in self.text


@dataclass(frozen=True)
class Requirement:
    """Groups of literal keys; a match needs one key of every group in the draft."""

    groups: tuple[frozenset[str], ...]

    def __post_init__(self) -> None:
        """Split each group into word-start keys (a set test) and plain substrings."""
        split = tuple(
            (frozenset(k for k in g if k[0] == "^"), tuple(k for k in g if k[0] != "^"))
            for g in self.groups
        )
        object.__setattr__(self, "_split", split)

    def may_match(self, index: Index) -> bool:
        """False only when the pattern certainly cannot match the indexed text."""
        text, starts = index.text, index.starts
        for at_start, plain in self._split:  # type: ignore[attr-defined]
            if starts.isdisjoint(at_start) and not any(k in text for k in plain):
                return False
        return True


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
        words = [w for w in _REPEATS.sub(r"\1", word).split() if len(w) >= _MIN]
        best = min(words, key=_rarity) if words else None
        terms.append(Term(pattern, plain, "^" + key(best) if best else None))
    return others, terms


def _required(items: Any, at_start: bool = False) -> list[frozenset[str]]:
    r"""Literal key groups that every match of a parsed regex sequence must contain.

    A literal right after ``\b`` or after required whitespace starts a word; its key is
    marked "^" and is looked up among the draft's word starts only ("ayah" then does not
    fire on "bayar").
    """
    groups: list[frozenset[str]] = []
    run: list[str] = []
    run_at_start = False

    def flush() -> None:
        if len(run) >= _MIN:
            literal = key("".join(run))
            groups.append(frozenset({"^" + literal if run_at_start else literal}))
        run.clear()

    for op, arg in items:
        if op is sre_constants.LITERAL:
            if not run:
                run_at_start = at_start
            run.append(chr(arg))
            at_start = chr(arg) == " "
            if at_start:
                flush()
            continue
        flush()
        starts_word = False
        if op is sre_constants.AT and arg is sre_constants.AT_BOUNDARY:
            starts_word = True
        elif op is sre_constants.SUBPATTERN:
            alternatives = _alternatives(arg[3], at_start)
            if alternatives is not None:
                groups.append(alternatives)
            else:
                groups.extend(_required(arg[3], at_start))
        elif op is sre_constants.BRANCH:
            alternatives = _alternatives([(op, arg)], at_start)
            if alternatives is not None:
                groups.append(alternatives)
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            if arg[0] >= 1:
                groups.extend(_required(arg[2]))
                starts_word = _ends_in_space(arg[2])
            else:  # skipped: the state before it holds; taken: it must end in whitespace
                starts_word = at_start and _ends_in_space(arg[2])
        at_start = starts_word
    flush()
    return groups


def _ends_in_space(items: Any) -> bool:
    r"""Whether every match of a parsed sequence ends in whitespace (``\s+``, " ")."""
    items = list(items)
    if not items:
        return False
    op, arg = items[-1]
    if op is sre_constants.LITERAL:
        return chr(arg) == " "
    if op is sre_constants.IN:
        return list(arg) == [(sre_constants.CATEGORY, sre_constants.CATEGORY_SPACE)]
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
        return arg[0] >= 1 and _ends_in_space(arg[2])
    if op is sre_constants.SUBPATTERN:
        return _ends_in_space(arg[3])
    if op is sre_constants.BRANCH:
        return all(_ends_in_space(alternative) for alternative in arg[1])
    return False


def _group_rank(group: frozenset[str]) -> tuple[tuple[bool, bool, int], int]:
    """Sort key for a group of alternative literals: its worst literal, then its size."""
    return max(_rarity(k) for k in group), len(group)


def _alternatives(items: Any, at_start: bool = False) -> frozenset[str] | None:
    """For a branch: the keys of one required literal per alternative, if each has one."""
    items = list(items)
    if len(items) == 1 and items[0][0] is sre_constants.SUBPATTERN:
        return _alternatives(items[0][1][3], at_start)
    if len(items) != 1 or items[0][0] is not sre_constants.BRANCH:
        return None
    chosen: set[str] = set()
    for alternative in items[0][1][1]:
        required = _required(alternative, at_start)
        if not required:
            return None
        best: frozenset[str] = min(required, key=_group_rank)
        chosen.update(best)
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
                trigger = min(
                    needs.groups, key=lambda g: (sum(sum(_rarity(k)[:2]) for k in g), len(g))
                )
                for literal in trigger:
                    self._trigger.setdefault(literal, []).append(slot)
            for term in terms:
                slot = len(self._terms)
                self._terms.append((number, term))
                if term.key is None:
                    self._term_always.add(slot)
                else:
                    self._term_trigger.setdefault(term.key, []).append(slot)
        self._start_keys = frozenset(k for k in self._trigger if k[0] == "^")
        self._plain_keys = tuple(k for k in self._trigger if k[0] != "^")
        self._term_keys = frozenset(self._term_trigger)

    def candidates(self, text: str) -> Iterator[tuple[Rule, list[re.Pattern[str]]]]:
        """Each rule with the patterns that may match the text, in catalogue order."""
        index = Index.of(text)
        slots = set(self._always)
        for literal in index.starts & self._start_keys:
            slots.update(self._trigger[literal])
        for literal in self._plain_keys:
            if literal in text:
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
