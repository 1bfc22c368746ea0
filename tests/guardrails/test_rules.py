"""Every rule's review examples hold; negation, stance, spans and context behave."""

from __future__ import annotations

import pytest

from guardrails import ComplianceGuard, GuardContext
from guardrails.catalogue import Example, load_catalogue

GUARD = ComplianceGuard()
CATALOGUE = load_catalogue()
EXAMPLES = [(r.id, e, True) for r in CATALOGUE.rules for e in r.must_match] + [
    (r.id, e, False) for r in CATALOGUE.rules for e in r.must_not_match
]


def judge(example: Example) -> set[str]:
    context = GuardContext.from_json(example.context) if example.context is not None else None
    return {v.rule for v in GUARD.check(example.text, context).violations}


def test_every_rule_is_documented_with_three_examples_each_way() -> None:
    for rule in CATALOGUE.rules:
        assert len(rule.must_match) >= 3 and len(rule.must_not_match) >= 3, rule.id
        assert rule.legal_basis and rule.description and rule.severity in ("block", "warn")


@pytest.mark.parametrize(
    ("rule_id", "example", "violates"), EXAMPLES, ids=[f"{r}-{v}" for r, _, v in EXAMPLES]
)
def test_rule_examples(rule_id: str, example: Example, violates: bool) -> None:
    assert (rule_id in judge(example)) is violates, example.text


def test_negation_is_scoped_to_its_clause() -> None:
    assert not GUARD.check("Kalau tidak bayar, Anda akan dipenjara.").allowed
    assert GUARD.check("Anda tidak akan dipenjara karena utang.").allowed


def test_obfuscated_spellings_are_caught() -> None:
    for text in (
        "lo bakal d1p3nj4r4",
        "dasar b*ngsat",
        "a n j i n g",
        "lo bakal masuk p.e.n.j.a.r.a",
    ):
        assert not GUARD.check(f"Kalau ga bayar, {text}").allowed, text


def test_spans_point_at_the_words_written() -> None:
    text = "Mohon maaf. Dasar b0d0h."
    (violation,) = GUARD.check(text).violations
    start, end = violation.span
    assert text[start:end] == "b0d0h"


def test_amounts_must_come_from_tools() -> None:
    known = GuardContext(verified=True, known_amounts=frozenset({12_450_000}))
    assert GUARD.check("Total tagihan Rp12.450.000.", known).allowed
    invented = GUARD.check("Total tagihan Rp12.000.000.", known)
    assert not invented.allowed and invented.violations[0].rule == "G22"


def test_no_figures_before_verification_but_fine_without_context() -> None:
    verdict = GUARD.check("Tagihan Anda Rp12.450.000.", GuardContext(verified=False))
    assert not verdict.allowed and verdict.violations[0].rule == "G12"
    assert GUARD.check("Tagihan Anda Rp12.450.000.").allowed
