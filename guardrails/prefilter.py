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
because terms also match doubled letters ("anjjing"); on a draft with a masking star
("b*ngsat") a term runs when one of its words occurs unmasked or a masked word of the draft
may stand for it ("b*ngsat" for "bangsat").

The requirements come from Python's private ``re._parser``. If it cannot be imported, or
the analysis of a pattern fails, that pattern gets no requirement and runs on every draft:
slower, never less correct. Patterns that start with ``\b(?:...)`` run through
``WordStartScanner`` (same matches, faster search).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import import_module
from operator import methodcaller
from types import ModuleType
from typing import Any

from guardrails.catalogue import Rule, term_pattern


def _load_parser() -> tuple[ModuleType, ModuleType] | None:
    """Python's private regex parser and its constants, or None when they are unavailable.

    ``re._parser`` is private and may change between Python versions; without it (or when
    the analysis of a pattern fails) every pattern simply runs: slower, never less correct.
    """
    try:
        return import_module("re._parser"), import_module("re._constants")
    except ImportError:  # pragma: no cover - present on CPython 3.11+
        return None


_PARSER = _load_parser()
sre_constants: Any = _PARSER[1] if _PARSER is not None else None

_KEY = 5  # literals of 5+ characters are indexed by their first 5 characters
_MIN = 3  # shorter literals by their first 3; literals under 3 characters are not used,
_SHORT = 2  # except a 2-character literal that starts a word ("wa", "bi", "rt")
_TERM_HEAD = "(?<![a-z*])"
_TERM_TAIL = "(?![a-z*])"
_TERM_CHAR = re.compile(r"\(\?:(.)\|\\\*\)\+")
_REPEATS = re.compile(r"(.)\1+")
_FIRST = methodcaller("group", 1)
_TOKEN = re.compile(r"[a-z*]+")  # a word as term patterns delimit it (a star counts as a letter)
# Frequent in ordinary drafts, so poor triggers; only used to pick a rarer literal (speed).
_COMMON = frozenset(
    "tidak tak kami saya anda kamu akan bisa dapat yang dan ini itu ada untuk dengan bapak ibu "
    "sudah juga saja dari kalau jika hari pada atau agar kan mohon terima kasih tagihan bayar "
    "pembayaran membayar sebelum sampai karena bila harus perlu hanya nanti sekarang".split()
)


def _rarity(literal: str) -> tuple[bool, bool, int]:
    """Sort key: uncommon, word-start and long literals first."""
    bare = literal.lstrip("^")
    return (bare in _COMMON_KEYS or len(bare) < _MIN, not literal.startswith("^"), -len(bare))


def key(literal: str) -> str:
    """The index key of a literal of at least 3 characters."""
    return literal[:_KEY] if len(literal) >= _KEY else literal[:_MIN]


_COMMON_KEYS = frozenset(key(word) for word in _COMMON if len(word) >= _MIN)


# the (up to) 5 characters at each position where a word, or a word of a term, starts
_WORD_START = re.compile(r"\b(?=\w)(?=(.{1,5}))", re.DOTALL)
_TERM_START = re.compile(r"(?<![a-z*])(?=[a-z])(?=(.{1,5}))", re.DOTALL)


@dataclass(frozen=True)
class Requirement:
    """Groups of literal keys; a match needs one key of every group in the draft."""

    groups: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Term:
    """One term of a rule: its masking-tolerant regex, a faster one for unmasked text, its key."""

    masked: re.Pattern[str]
    plain: re.Pattern[str]
    key: str | None
    # For drafts with a masking star: one word of the term ("belur" of "babak belur"), its
    # key and its masking-tolerant regex. The term can only match where that word occurs
    # unmasked (key) or as a masked word the regex fully matches ("bel*r").
    part_key: str | None = None
    part: re.Pattern[str] | None = None


def requirement(pattern: re.Pattern[str]) -> Requirement:
    """The literal requirement of one compiled rule pattern (no groups: always run).

    Any failure -- the private parser missing, or an analysis error on a construct it does
    not know -- gives the empty requirement, so the pattern runs on every draft.
    """
    if _PARSER is None or sre_constants is None:
        return Requirement(())
    try:
        groups = _required(_PARSER[0].parse(pattern.pattern, pattern.flags))
        return Requirement(tuple(sorted(set(groups), key=len)))
    except Exception:  # noqa: BLE001 - correctness first: fall back to running the pattern
        return Requirement(())


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
        parts = [w for w in re.findall(r"[a-z]+", word) if len(_REPEATS.sub(r"\1", w)) >= _MIN]
        part = min(parts, key=lambda w: _rarity(_REPEATS.sub(r"\1", w))) if parts else None
        terms.append(
            Term(
                pattern,
                plain,
                "^" + key(best) if best else None,
                "^" + key(_REPEATS.sub(r"\1", part)) if part else None,
                re.compile(term_pattern(part)) if part else None,
            )
        )
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
        if len(run) >= _MIN or (len(run) == _SHORT and run_at_start):
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


class WordStartScanner:
    r"""Runs a pattern that starts with ``\b`` faster, with the same matches.

    A leading ``\b`` hides the pattern's first characters from the regex engine, which then
    tries every position of the draft. Without it (``rest``) the engine skips straight to
    positions whose character can start a match. Every match of the full pattern is a match
    of ``rest`` at the same position, so each position ``rest`` finds is confirmed with the
    full pattern there (``\b`` sees the character before it): the same matches, in order.
    """

    def __init__(self, full: re.Pattern[str]) -> None:
        r"""Wrap a compiled pattern whose source starts with ``\b``."""
        self.full = full
        self.pattern = full.pattern
        self._rest = re.compile(full.pattern[2:], full.flags)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """The matches of the full pattern, as ``re.Pattern.finditer`` gives them."""
        search, match, pos = self._rest.search, self.full.match, 0
        while True:
            found = search(text, pos)
            if found is None:
                return
            start = found.start()
            confirmed = match(text, start)
            if confirmed is None:
                pos = start + 1
                continue
            yield confirmed
            pos = max(confirmed.end(), start + 1)


Scanner = re.Pattern[str] | WordStartScanner


def scanner(pattern: re.Pattern[str]) -> Scanner:
    """The fastest equivalent way to run a rule pattern."""
    if pattern.pattern.startswith("\\b(?:") and "|" in pattern.pattern:
        try:
            return WordStartScanner(pattern)
        except re.error:  # pragma: no cover - a rest that does not compile on its own
            return pattern
    return pattern


class ScanPlan:
    """Every wording rule's patterns, indexed by the literal keys that trigger them."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        """Split terms from patterns and index both by one required key group each."""
        self._rules = list(rules)
        self._slots: list[tuple[int, re.Pattern[str], Requirement]] = []
        # per slot: rule number, scanner, and its key groups split into word-start keys (a
        # set test) and plain substrings (tested only when no word-start key is present)
        self._runs: list[tuple[int, Scanner, tuple[tuple[frozenset[str], tuple[str, ...]], ...]]]
        self._runs = []
        self._terms: list[tuple[int, Term]] = []
        self._always: set[int] = set()
        self._trigger: dict[str, list[int]] = {}
        self._term_trigger: dict[str, list[int]] = {}
        self._term_always: set[int] = set()
        # drafts with a masking star: terms by their part's key and by its first letter
        self._term_masked_always: set[int] = set()
        self._part_trigger: dict[str, list[int]] = {}
        self._part_first: dict[str, list[int]] = {}
        for number, rule in enumerate(self._rules):
            others, terms = split_terms(rule.patterns)
            for pattern in others:
                needs = requirement(pattern)
                slot = len(self._slots)
                self._slots.append((number, pattern, needs))
                split = tuple(
                    (frozenset(k for k in g if k[0] == "^"), tuple(k for k in g if k[0] != "^"))
                    for g in needs.groups
                )
                self._runs.append((number, scanner(pattern), split))
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
                if term.part is None or term.part_key is None:
                    self._term_masked_always.add(slot)
                else:
                    self._part_trigger.setdefault(term.part_key, []).append(slot)
                    self._part_first.setdefault(term.part_key[1], []).append(slot)
        self._start_keys = frozenset(k for k in self._trigger if k[0] == "^")
        self._plain_keys = tuple(k for k in self._trigger if k[0] != "^")
        self._term_keys = frozenset(self._term_trigger)
        self._part_keys = frozenset(self._part_trigger)
        self._part_all = [slot for slots in self._part_trigger.values() for slot in slots]
        self._compile_masks()

    def _compile_masks(self) -> None:
        """Precompute the per-draft lookups of ``candidates`` (same decisions, fewer loops).

        Keys are stored without their "^" so a draft's word starts need no prefixing. Every
        distinct key group gets one bit; a slot needs the bits of all its groups, and a draft
        satisfies a group's bit when one of its word-start keys occurs (a set intersection)
        or, tested lazily, one of its plain substrings does.
        """
        bits: dict[tuple[frozenset[str], tuple[str, ...]], int] = {}
        self._start_bits: dict[str, int] = {}  # bare word-start key -> groups it satisfies
        self._group_plain: list[tuple[str, ...]] = []  # per group bit: its plain substrings
        self._start_only = 0  # groups without plain substrings: decided by word starts alone
        self._need: list[int] = []  # per slot: the bits of every group it needs
        self._slot_rule: list[int] = []
        for number, _, groups in self._runs:
            need = 0
            for group in groups:
                bit = bits.get(group)
                if bit is None:
                    bit = bits[group] = len(bits)
                    at_start, plain = group
                    for literal in at_start:
                        bare = literal[1:]
                        self._start_bits[bare] = self._start_bits.get(bare, 0) | 1 << bit
                    self._group_plain.append(plain)
                    if not plain:
                        self._start_only |= 1 << bit
                need |= 1 << bit
            self._need.append(need)
            self._slot_rule.append(number)
        trigger = {k[1:]: frozenset(v) for k, v in self._trigger.items() if k[0] == "^"}
        # bare word-start key -> (groups it satisfies, slots it triggers)
        self._start_lookup: dict[str, tuple[int, frozenset[int]]] = {
            k: (self._start_bits.get(k, 0), trigger.get(k, frozenset()))
            for k in set(self._start_bits) | set(trigger)
        }
        self._bare_keys = frozenset(self._start_lookup)
        self._plain_trigger = tuple(
            (k, frozenset(v)) for k, v in self._trigger.items() if k[0] != "^"
        )
        self._bare_term_trigger = {k[1:]: frozenset(v) for k, v in self._term_trigger.items()}
        self._bare_term_keys = frozenset(self._bare_term_trigger)
        self._bare_part_trigger = {k[1:]: frozenset(v) for k, v in self._part_trigger.items()}
        self._bare_part_keys = frozenset(self._bare_part_trigger)
        self._always_slots = frozenset(self._always)
        self._term_always_slots = frozenset(self._term_always)
        self._term_masked_always_slots = frozenset(self._term_masked_always)

    def _part_fits(self, slot: int, token: str) -> bool:
        part = self._terms[slot][1].part
        return part is not None and part.fullmatch(token) is not None

    def _term_slots(self, text: str, masked: bool) -> set[int]:
        """The term slots whose key (or, on a masked draft, whose part) the draft may hold."""
        collapsed = _REPEATS.sub(_FIRST, text)  # same as r"\1", without template expansion
        term_heads = set(_TERM_START.findall(collapsed))
        term_starts = term_heads.union([h[:_MIN] for h in term_heads])
        if masked:  # the term's part occurs unmasked, or a masked word may be it
            terms = set(self._term_masked_always_slots)
            for literal in self._bare_part_keys.intersection(term_starts):
                terms |= self._bare_part_trigger[literal]
            for token in {t for t in _TOKEN.findall(text) if "*" in t}:
                pool = self._part_all if token[0] == "*" else self._part_first.get(token[0], [])
                terms.update(slot for slot in pool if self._part_fits(slot, token))
        else:
            terms = set(self._term_always_slots)
            for literal in self._bare_term_keys.intersection(term_starts):
                terms |= self._bare_term_trigger[literal]
        return terms

    def candidates(self, text: str) -> Iterator[tuple[Rule, list[Scanner]]]:
        """Each rule with the patterns that may match the text, in catalogue order.

        A pattern runs when every group of its ``Requirement`` has a key in the draft (a
        word-start key among the draft's word starts, or a plain key as a substring); terms run
        when their key starts a word of the repeat-collapsed draft, or, for a draft with a
        masking star, when a masked word may stand for them. Computed with precomputed key
        maps and group bitmasks.
        """
        heads = set(_WORD_START.findall(text))
        starts = heads.union([h[:_MIN] for h in heads], [h[:_SHORT] for h in heads])
        satisfied = 0
        slots = set(self._always_slots)
        for bits, triggered in map(self._start_lookup.__getitem__, self._bare_keys & starts):
            satisfied |= bits
            slots |= triggered
        for literal, triggered in self._plain_trigger:
            if literal in text:
                slots |= triggered
        masked = "*" in text
        terms = self._term_slots(text, masked)
        failed = 0
        need, group_plain, runs = self._need, self._group_plain, self._runs
        start_only = self._start_only
        per_rule: dict[int, list[Scanner]] = {}
        for slot in sorted(slots):
            missing = need[slot] & ~satisfied
            if missing:  # groups no word start satisfies: their plain substrings decide
                if missing & (failed | start_only):
                    continue
                while missing:
                    low = missing & -missing
                    if any(k in text for k in group_plain[low.bit_length() - 1]):
                        satisfied |= low
                        missing ^= low
                    else:
                        failed |= low
                        break
                if missing:
                    continue
            number, run, _ = runs[slot]
            found = per_rule.get(number)
            if found is None:
                per_rule[number] = [run]
            else:
                found.append(run)
        for slot in sorted(terms):
            number, term = self._terms[slot]
            per_rule.setdefault(number, []).append(term.masked if masked else term.plain)
        rules = self._rules
        for number in sorted(per_rule):
            yield rules[number], per_rule[number]
