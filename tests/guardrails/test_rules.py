"""Every wording rule's review examples hold; contextual checks catch invented figures."""

from __future__ import annotations

import pytest

from guardrails import ComplianceGuard, GuardContext
from guardrails.catalogue import load_catalogue

GUARD = ComplianceGuard()
EXAMPLES = [
    (rule.id, text, True) for rule in load_catalogue().rules for text in rule.must_match
] + [(rule.id, text, False) for rule in load_catalogue().rules for text in rule.must_not_match]


def test_every_rule_has_three_examples_each_way() -> None:
    for rule in load_catalogue().rules:
        assert len(rule.must_match) >= 3 and len(rule.must_not_match) >= 3, rule.id
        assert rule.legal_basis and rule.description


@pytest.mark.parametrize(("rule_id", "text", "violates"), EXAMPLES)
def test_rule_examples(rule_id: str, text: str, violates: bool) -> None:
    verdict = GUARD.check(text)
    fired = {v.rule for v in verdict.violations}
    assert (rule_id in fired) is violates, (text, verdict)


def test_negation_is_scoped_to_its_clause() -> None:
    assert not GUARD.check("Kalau tidak bayar, Anda akan dipenjara.").allowed
    assert GUARD.check("Anda tidak akan dipenjara karena utang.").allowed


def test_spans_point_at_the_offending_words() -> None:
    text = "Mohon maaf. Dasar bodoh."
    (violation,) = GUARD.check(text).violations
    start, end = violation.span
    assert text[start:end] == "bodoh"


def test_amounts_must_come_from_tools() -> None:
    known = GuardContext(verified=True, known_amounts=frozenset({12_450_000}))
    assert GUARD.check("Total tagihan Rp12.450.000.", known).allowed
    invented = GUARD.check("Total tagihan Rp12.000.000.", known)
    assert not invented.allowed and invented.violations[0].rule == "G22"


def test_no_figures_before_verification() -> None:
    verdict = GUARD.check("Tagihan Anda Rp12.450.000.", GuardContext(verified=False))
    assert not verdict.allowed and verdict.violations[0].rule == "G12"
