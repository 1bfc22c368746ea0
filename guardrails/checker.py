"""The compliance check: wording rules over normalised text, plus contextual rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardrails.catalogue import Catalogue, Rule, load_catalogue
from guardrails.context import GuardContext
from guardrails.contextual import ContactRules, contextual_violations
from guardrails.normaliser import Normalised, normalise
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

    @property
    def version(self) -> str:
        """The catalogue version (its files' hash), recorded in the audit trail."""
        return self.catalogue.version

    def check(self, text: str, context: GuardContext | None = None) -> Verdict:
        """Return the verdict for one draft; without context only wording rules apply."""
        norm = normalise(text)
        found = list(self._wording(norm))
        if context is not None:
            found.extend(contextual_violations(norm, context, self.contact_rules))
        found = _dedupe(found)
        blocking = any(v.severity == "block" for v in found)
        return Verdict(allowed=not blocking, violations=tuple(found))

    def _wording(self, norm: Normalised) -> Iterator[Violation]:
        for rule in self.catalogue.wording_rules:
            for pattern in rule.patterns:
                for match in pattern.finditer(norm.text):
                    if self._excused(rule, norm.text, match):
                        continue
                    yield Violation(
                        rule=rule.id,
                        category=rule.category,
                        span=norm.span(match.start(), match.end()),
                        message=rule.description,
                        severity=rule.severity,
                    )
                    break

    def _excused(self, rule: Rule, text: str, match: re.Match[str]) -> bool:
        sentence = _around(text, match.start(), match.end(), _SENTENCE_BREAK)
        if any(p.search(sentence) for p in rule.exceptions):
            return True
        if not rule.negatable:
            return False
        return self._negated(text, match.start()) or any(
            p.search(sentence) for p in self.catalogue.stance
        )

    def _negated(self, text: str, start: int) -> bool:
        """True when the nearest non-auxiliary word before the match, in its clause, negates."""
        clause_start = max(text.rfind(c, 0, start) for c in _CLAUSE_BREAK) + 1
        before = _WORD.findall(text[clause_start:start])[-self.catalogue.negation_window :]
        for word in reversed(before):
            if word in self.catalogue.negations:
                return True
            if word not in self.catalogue.auxiliaries:
                return False
        return False


def _around(text: str, start: int, end: int, breaks: str) -> str:
    left = max(text.rfind(c, 0, start) for c in breaks) + 1
    rights = [i for i in (text.find(c, end) for c in breaks) if i >= 0]
    return text[left : min(rights) if rights else len(text)]


def _dedupe(violations: list[Violation]) -> list[Violation]:
    seen: set[tuple[str, tuple[int, int]]] = set()
    unique = []
    for violation in violations:
        key = (violation.rule, violation.span)
        if key not in seen:
            seen.add(key)
            unique.append(violation)
    return unique
