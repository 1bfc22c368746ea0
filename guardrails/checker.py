"""The compliance check: wording rules plus the turn's contextual facts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from guardrails.catalogue import Catalogue, WordingRule, load_catalogue
from guardrails.verdict import Verdict, Violation

_RUPIAH = re.compile(r"\bRp\s?(\d{1,3}(?:\.\d{3})+|\d+)(?:,-|,00)?", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_CLAUSE_BREAK = re.compile(r"[.,;:!?\n]")


@dataclass(frozen=True)
class GuardContext:
    """The facts of this turn that contextual checks need.

    Attributes:
        verified: whether the session is verified for an account.
        known_amounts: every rupiah amount this turn's tools returned, plus policy amounts.
        check_amounts: whether amounts must be grounded (off for bare wording checks).
    """

    verified: bool = False
    known_amounts: frozenset[int] = field(default_factory=frozenset)
    check_amounts: bool = True


class ComplianceGuard:
    """Blocks drafts that break a wording rule or a contextual rule."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        """Use the packaged rule catalogue unless another is given."""
        self.catalogue = catalogue or load_catalogue()

    def check(self, text: str, context: GuardContext | None = None) -> Verdict:
        """Return the verdict for one draft."""
        found = list(self._wording(text))
        if context is not None:
            found.extend(self._amounts(text, context))
        blocking = tuple(v for v in found if v.severity == "block")
        return Verdict(allowed=not blocking, violations=tuple(found))

    def _wording(self, text: str) -> Iterable[Violation]:
        for rule in self.catalogue.rules:
            for pattern in rule.patterns:
                for match in pattern.finditer(text):
                    if rule.negatable and self._negated(text, match.start()):
                        continue
                    yield _violation(rule, match)

    def _negated(self, text: str, start: int) -> bool:
        """True when the nearest non-auxiliary word before the match, in its clause, negates it."""
        clause = _CLAUSE_BREAK.split(text[:start])[-1].lower()
        before = _WORD.findall(clause)[-self.catalogue.negation_window :]
        for word in reversed(before):
            if word in self.catalogue.negations:
                return True
            if word not in self.catalogue.auxiliaries:
                return False
        return False

    @staticmethod
    def _amounts(text: str, context: GuardContext) -> Iterable[Violation]:
        for match in _RUPIAH.finditer(text):
            amount = int(match.group(1).replace(".", ""))
            span = (match.start(), match.end())
            if not context.verified:
                yield Violation(
                    "G12", "kerahasiaan", span, "account figures before identity is verified"
                )
            elif context.check_amounts and amount not in context.known_amounts:
                yield Violation(
                    "G22", "angka_tanpa_dasar", span, f"amount {amount} not returned by any tool"
                )


def _violation(rule: WordingRule, match: re.Match[str]) -> Violation:
    return Violation(
        rule=rule.id,
        category=rule.category,
        span=(match.start(), match.end()),
        message=rule.description,
        severity=rule.severity,
    )
