"""The compliance check: wording rules over normalised text, plus contextual rules."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache

from guardrails.catalogue import Catalogue, Rule, load_catalogue
from guardrails.context import GuardContext
from guardrails.contextual import ContactRules, context_free_violations, contextual_violations
from guardrails.normaliser import Normalised, normalise
from guardrails.prefilter import ScanPlan
from guardrails.verdict import Verdict, Violation

_WORD = re.compile(r"[a-z]+")
_CLAUSE_BREAK = ".,;:!?\n"
_SENTENCE_BREAK = ".!?\n"


class ComplianceGuard:
    """Blocks drafts that break a wording rule or, given context, a contextual rule."""

    def __init__(
        self, catalogue: Catalogue | None = None, contact_rules: ContactRules | None = None
    ) -> None:
        """Use the packaged catalogue and the policy's contact rules unless others are given."""
        self.catalogue = catalogue or load_catalogue()
        self.contact_rules = contact_rules or ContactRules()
        self._basis = {rule.id: rule.legal_basis for rule in self.catalogue.rules}
        self._plan = ScanPlan(self.catalogue.wording_rules)

    @property
    def version(self) -> str:
        """The catalogue version (its files' hash), recorded in the audit trail."""
        return self.catalogue.version

    def check(self, text: str, context: GuardContext | None = None) -> Verdict:
        """Return the verdict for one draft; without context only wording rules apply."""
        norm = normalise(text)
        found = list(self._wording(norm))
        extra = list(context_free_violations(text, norm, context))
        if context is not None:
            extra.extend(
                v
                for v in contextual_violations(norm, context, self.contact_rules)
                if not _inside_cited(text, v.span, context.cited)
            )
        basis = self._basis
        found.extend(v if v.basis else replace(v, basis=basis.get(v.rule, "")) for v in extra)
        found = _dedupe(found)
        blocking = any(v.severity == "block" for v in found)
        return Verdict(allowed=not blocking, violations=tuple(found))

    def _wording(self, norm: Normalised) -> Iterator[Violation]:
        text = norm.text
        breaks: _Breaks | None = None  # sentence and clause ends, found on the first match
        for rule, patterns in self._plan.candidates(text):
            for pattern in patterns:
                for match in pattern.finditer(text):
                    if breaks is None:
                        breaks = _Breaks(text)
                    if self._excused(rule, breaks, match):
                        continue
                    yield Violation(
                        rule=rule.id,
                        category=rule.category,
                        span=norm.span(match.start(), match.end()),
                        message=rule.description,
                        severity=rule.severity,
                        basis=rule.legal_basis,
                    )
                    break

    def _excused(self, rule: Rule, breaks: _Breaks, match: re.Match[str]) -> bool:
        start = match.start()
        sentence = breaks.sentence(start, match.end())
        if rule.exceptions and _any_search(rule.exceptions, sentence):
            return True
        if not rule.negatable:
            return False
        return self._negated(breaks, start) or _any_search(self.catalogue.stance, sentence)

    def _negated(self, breaks: _Breaks, start: int) -> bool:
        """True when a negation precedes the match in its clause and governs it.

        The nearest non-auxiliary word decides, as before; in addition a negation a few words
        further back (within ``negation_window``) counts -- "kami tidak akan datang
        beramai-ramai" -- unless it belongs to a condition or relative clause ("kalau tidak
        bayar ...", "yang tidak membayar ...") or only intensifies ("tidak segan ...").
        """
        text = breaks.text
        clause_start = breaks.clause_start(start)
        before = _WORD.findall(text[clause_start:start])[-self.catalogue.negation_window :]
        for index in range(len(before) - 1, -1, -1):
            if before[index] not in self.catalogue.negations:
                continue
            previous = before[index - 1] if index else ""
            following = before[index + 1] if index + 1 < len(before) else ""
            if previous in _CONDITIONS or following in _NOT_GOVERNING:
                continue
            return True
        return False


# A negation right after these words sits in a condition or relative clause and does not
# negate the threat that follows: "kalau tidak bayar kami laporkan", "yang belum membayar".
_CONDITIONS = frozenset(
    "kalau jika bila apabila seandainya andai asal asalkan selama sampai hingga sebelum karena "
    "sebab yang kecuali".split()
)
# A negation followed by these words intensifies, states non-payment or asks a rhetorical
# question instead of denying: "kami tidak segan ...", "tidak main-main", "tidak bayar",
# "jangan sampai ...", "tidak takut azab?", "apa tidak malu?".
_NOT_GOVERNING = frozenset(
    "segan ragu main tinggal bayar membayar dibayar melunasi dilunasi lunas mampu sanggup "
    "pilihan peduli kenal sampai takut malu kasihan sadar ingat".split()
)


@lru_cache(maxsize=1024)
def _any_search(patterns: tuple[re.Pattern[str], ...], sentence: str) -> bool:
    """Whether any pattern occurs in the sentence (cached: one sentence, many matches)."""
    return any(p.search(sentence) for p in patterns)


class _Breaks:
    """Sentence and clause break positions of one normalised draft, found in one pass each.

    ``sentence`` and ``clause_start`` give what ``str.rfind``/``str.find`` over the break
    characters gave, by bisecting the sorted positions.
    """

    __slots__ = ("clauses", "sentences", "text")

    def __init__(self, text: str) -> None:
        """Record the positions of every sentence and clause break character."""
        self.text = text
        self.sentences = [m.start() for m in _SENTENCE_BREAKS.finditer(text)]
        self.clauses = [m.start() for m in _CLAUSE_BREAKS.finditer(text)]

    def sentence(self, start: int, end: int) -> str:
        """The text between the last sentence break before ``start`` and the next from ``end``."""
        ends = self.sentences
        before = bisect_left(ends, start)
        left = ends[before - 1] + 1 if before else 0
        after = bisect_left(ends, end, before)
        return self.text[left : ends[after] if after < len(ends) else len(self.text)]

    def clause_start(self, start: int) -> int:
        """The position after the last clause break before ``start`` (0 when there is none)."""
        before = bisect_left(self.clauses, start)
        return self.clauses[before - 1] + 1 if before else 0


_SENTENCE_BREAKS = re.compile("[" + re.escape(_SENTENCE_BREAK) + "]")
_CLAUSE_BREAKS = re.compile("[" + re.escape(_CLAUSE_BREAK) + "]")


def _inside_cited(text: str, span: tuple[int, int], cited: tuple[str, ...]) -> bool:
    """Whether a span lies inside a quoted, compliance-reviewed knowledge passage."""
    for passage in cited:
        start = text.find(passage)
        while start >= 0:
            if start <= span[0] and span[1] <= start + len(passage):
                return True
            start = text.find(passage, start + 1)
    return False


def _dedupe(violations: list[Violation]) -> list[Violation]:
    seen: set[tuple[str, tuple[int, int]]] = set()
    unique = []
    for violation in violations:
        key = (violation.rule, violation.span)
        if key not in seen:
            seen.add(key)
            unique.append(violation)
    return unique
