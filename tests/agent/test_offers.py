"""Tests of the offer engine: the policy's worked examples, explicit cases, properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.offers import (
    Offer,
    annuity_installment,
    ceil1000,
    compute_offers,
    effective_monthly_rate,
)
from agent.policy import DEFAULT_POLICY_PATH, Policy, WorkedExample, load_policy
from agent.portfolio import Account, Dispute, Loan, Statement, load_portfolio

POLICY = load_policy()
PORTFOLIO = load_portfolio()
CAP = POLICY.fees.card_interest_cap_monthly
STANDARD = {"bayar_penuh", "bayar_minimum", "bayar_tunggakan"}
PROPERTIES = settings(max_examples=300, deadline=None, database=None)


def _offers(account_id: str, policy: Policy = POLICY) -> list[Offer]:
    return compute_offers(PORTFOLIO.account(account_id), policy)


def _summary(offers: list[Offer]) -> list[tuple[str, int, int | None]]:
    return [(offer.plan, offer.amount, offer.tenor_months) for offer in offers]


def _expected_tenor(example: WorkedExample, account: Account) -> int | None:
    """The tenor a worked example refers to (KTA examples give the extra months)."""
    if example.extra_months is None:
        return example.tenor
    assert account.loan is not None
    return account.loan.tenor_months - account.loan.installments_paid + example.extra_months


def test_policy_has_worked_examples() -> None:
    """The parametrised test below cannot silently run on an empty list."""
    assert len(POLICY.worked_examples) >= 11


@pytest.mark.parametrize(
    "example",
    POLICY.worked_examples,
    ids=[f"{i}-{e.account}-{e.plan}" for i, e in enumerate(POLICY.worked_examples)],
)
def test_worked_example(example: WorkedExample) -> None:
    """Every worked example of the policy file holds."""
    account = PORTFOLIO.account(example.account)
    offers = [offer for offer in compute_offers(account, POLICY) if offer.plan == example.plan]
    if example.tenors_offered is not None:
        assert [offer.tenor_months for offer in offers] == example.tenors_offered
    tenor = _expected_tenor(example, account)
    if tenor is not None:
        offers = [offer for offer in offers if offer.tenor_months == tenor]
    if example.installment is not None:
        assert [offer.installment for offer in offers] == [example.installment]
    if example.amount is not None:
        assert [offer.amount for offer in offers] == [example.amount]


def test_dpd_45_gets_no_minimum_payment() -> None:
    """CC-1003 (dpd 45) may pay in full or convert, but not pay the minimum."""
    assert _summary(_offers("CC-1003")) == [
        ("bayar_penuh", 12450000, None),
        ("cicilan_tetap", 4216000, 3),
        ("cicilan_tetap", 2145000, 6),
        ("cicilan_tetap", 1111000, 12),
    ]


def test_current_card_gets_only_standard_options() -> None:
    """CC-1001 (dpd 0, no hardship) gets the stored full and minimum amounts only."""
    assert _summary(_offers("CC-1001")) == [
        ("bayar_penuh", 4180000, None),
        ("bayar_minimum", 209000, None),
    ]


def test_current_loan_gets_only_bayar_tunggakan() -> None:
    """KTA-2002 (dpd 0) may only pay the instalment due."""
    assert _summary(_offers("KTA-2002")) == [("bayar_tunggakan", 2255000, None)]


def test_dispute_is_excluded_everywhere() -> None:
    """CC-1008's open dispute (Rp3.200.000) is left out of every amount and base."""
    offers = _offers("CC-1008")
    assert [offer.plan for offer in offers] == ["bayar_penuh"] + ["cicilan_tetap"] * 3
    assert all(offer.excluded_dispute == 3200000 for offer in offers)
    assert offers[0].amount == 9726000 - 3200000
    assert {offer.base for offer in offers[1:]} == {9726000 - 96000 - 3200000}
    assert all(offer.waived == {"late_fee": 96000} for offer in offers[1:])


def test_order_kinds_and_waivers_for_a_hardship_account() -> None:
    """CC-1004: standard first, then plans in policy order, tenors ascending."""
    offers = _offers("CC-1004")
    assert [(o.plan, o.kind, o.tenor_months) for o in offers] == [
        ("bayar_penuh", "full", None),
        ("restrukturisasi", "instalment", 12),
        ("restrukturisasi", "instalment", 18),
        ("restrukturisasi", "instalment", 24),
        ("pelunasan_diskon", "settlement", None),
        ("penundaan", "deferral", None),
    ]
    assert offers[1].waived == {"interest": 1000000, "late_fee": 100000}
    assert (offers[4].discount, offers[4].pay_within_days) == (18900000 - 15120000, 14)
    assert (offers[5].amount, offers[5].deferral_months) == (0, 1)


def test_grace_already_used_means_no_deferral() -> None:
    """penundaan needs hardship and no grace used in the last 12 months."""
    account = PORTFOLIO.account("CC-1004").model_copy(update={"grace_used_last_12m": True})
    assert "penundaan" not in [offer.plan for offer in compute_offers(account, POLICY)]


def test_settlement_floor_binds(tmp_path: Path) -> None:
    """A discount that would go below half the principal is cut at the floor.

    With the policy's own bands (at most 40%) the floor cannot bind while
    total_due >= principal, so a 60% band is used here.

    """
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    path = tmp_path / "collection_policy.yaml"
    path.write_text(text.replace('"181+": 0.40', '"181+": 0.60'), encoding="utf-8")
    offers = _offers("CC-1006", load_policy(path))
    settlement = [offer for offer in offers if offer.plan == "pelunasan_diskon"]
    assert 31750000 * 0.40 < 29100000 * 0.5
    assert [(offer.amount, offer.discount) for offer in settlement] == [
        (14550000, 31750000 - 14550000)
    ]


def test_kta_settlement_after_181_days() -> None:
    """KTA settlement is 70% of the outstanding principal, rounded up."""
    account = PORTFOLIO.account("KTA-2001").model_copy(update={"dpd": 181})
    assert _summary(compute_offers(account, POLICY)) == [
        ("bayar_tunggakan", 3824000, None),
        ("pelunasan_diskon", 14700000, None),
    ]


def test_tenor_over_the_interest_cap_is_dropped(tmp_path: Path) -> None:
    """At a plan rate equal to the cap, rounding up pushes the effective rate over it."""
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    path = tmp_path / "collection_policy.yaml"
    path.write_text(text.replace("monthly_rate: 0.0119", "monthly_rate: 0.0175"), "utf-8")
    at_cap = load_policy(path)
    offered = [o for o in _offers("CC-1003", at_cap) if o.plan == "cicilan_tetap"]
    base = 12450000 - 100000
    over_cap = [
        tenor
        for tenor in (3, 6, 12)
        if effective_monthly_rate(base, annuity_installment(base, 0.0175, tenor), tenor) > CAP
    ]
    assert over_cap
    assert [offer.tenor_months for offer in offered] == [
        tenor for tenor in (3, 6, 12) if tenor not in over_cap
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1, 1000),
        (1000, 1000),
        (999.4, 1000),
        (1000.01, 2000),
        (18900000 * (1 - 0.20), 15120000),
        (31750000 * (1 - 0.40), 19050000),
        (21000000 * 0.70, 14700000),
        (15120000.000000002, 15120000),
        (4215999.9999999995, 4216000),
    ],
)
def test_ceil1000(value: float, expected: int) -> None:
    """ceil1000 rounds up and ignores float noise on exact multiples."""
    assert ceil1000(value) == expected


def test_ceil1000_rejects_non_finite() -> None:
    """NaN cannot be rounded to an amount."""
    with pytest.raises(ValueError):
        ceil1000(float("nan"))


def test_effective_monthly_rate() -> None:
    """The solved rate reproduces the base and is 0 for an interest-free schedule."""
    rate = effective_monthly_rate(12350000, 4216000, 3)
    assert 0.0119 < rate < 0.0121
    present_value = 4216000 * (1 - (1 + rate) ** -3) / rate
    assert abs(present_value - 12350000) < 0.01
    assert effective_monthly_rate(1200000, 100000, 12) < 1e-9
    with pytest.raises(ValueError):
        effective_monthly_rate(1200000, 99000, 12)
    with pytest.raises(ValueError):
        effective_monthly_rate(0, 100000, 12)


CARD = PORTFOLIO.account("CC-1003")
KTA = PORTFOLIO.account("KTA-2001")
DISPUTE = PORTFOLIO.account("CC-1008").dispute
assert CARD.statement is not None and KTA.loan is not None and DISPUTE is not None
CARD_STATEMENT: Statement = CARD.statement
KTA_LOAN: Loan = KTA.loan
DISPUTE_TEMPLATE: Dispute = DISPUTE
DPD = st.integers(0, 400) | st.sampled_from([0, 1, 30, 31, 90, 91, 180, 181])


@st.composite
def card_accounts(draw: st.DrawFn) -> Account:
    """A card account with generated figures, flags and an optional dispute."""
    principal = draw(st.integers(1000, 3_000_000) | st.integers(1000, 150_000_000))
    interest = draw(st.integers(0, 10_000_000))
    late_fee = draw(st.integers(0, 100_000))
    total_due = principal + interest + late_fee
    figures = {"principal": principal, "interest": interest, "late_fee": late_fee}
    minimum_due = draw(st.integers(1, total_due))
    statement = CARD_STATEMENT.model_copy(
        update={**figures, "total_due": total_due, "minimum_due": minimum_due}
    )
    dispute = None
    if draw(st.booleans()):
        status = draw(st.sampled_from(["open", "resolved"]))
        amount = draw(st.integers(1, total_due - 1))
        dispute = DISPUTE_TEMPLATE.model_copy(update={"amount": amount, "status": status})
    flags = {name: draw(st.booleans()) for name in ("hardship_declared", "grace_used_last_12m")}
    update = {"dpd": draw(DPD), "statement": statement, "dispute": dispute, **flags}
    return CARD.model_copy(update=update)


@st.composite
def kta_accounts(draw: st.DrawFn) -> Account:
    """A KTA account with a generated loan and flags."""
    tenor = draw(st.integers(1, 60))
    loan = KTA_LOAN.model_copy(
        update={
            "tenor_months": tenor,
            "installments_paid": draw(st.integers(0, tenor)),
            "outstanding_principal": draw(st.integers(0, 300_000_000)),
            "monthly_flat_rate": draw(st.integers(0, 300)) / 10_000,
            "total_due": draw(st.integers(0, 50_000_000)),
        }
    )
    update = {"dpd": draw(DPD), "loan": loan, "hardship_declared": draw(st.booleans())}
    return KTA.model_copy(update=update)


ACCOUNTS = card_accounts() | kta_accounts()


@PROPERTIES
@given(card_accounts())
def test_card_instalment_rate_never_exceeds_cap(account: Account) -> None:
    """(a) The effective rate of every card instalment schedule is within the cap.

    Checked twice: by solving for the rate, and by amortising the base at the cap
    rate, where the instalments must not repay more than the base (they would if the
    effective rate exceeded the cap).

    """
    for offer in compute_offers(account, POLICY):
        if offer.kind != "instalment":
            continue
        assert offer.base and offer.installment and offer.tenor_months
        assert effective_monthly_rate(offer.base, offer.installment, offer.tenor_months) <= CAP
        balance = float(offer.base)
        for _ in range(offer.tenor_months):
            balance = balance * (1 + CAP) - offer.installment
        assert balance >= -0.01


@PROPERTIES
@given(ACCOUNTS)
def test_settlement_never_below_floor(account: Account) -> None:
    """(b) A settlement is at least its floor and less than its base."""
    for offer in compute_offers(account, POLICY):
        if offer.kind != "settlement":
            continue
        assert offer.base is not None and offer.amount < offer.base
        if account.statement is not None:
            plan = POLICY.kartu_kredit.plans.pelunasan_diskon
            floor_base = account.statement.principal - offer.excluded_dispute
            assert offer.amount >= floor_base * plan.floor.factor
        else:
            assert account.loan is not None
            factor = POLICY.kta.plans.pelunasan_diskon.amount.factor
            assert offer.amount >= account.loan.outstanding_principal * factor


@PROPERTIES
@given(ACCOUNTS)
def test_instalments_repay_the_base(account: Account) -> None:
    """(c) installment x tenor >= base for every instalment plan."""
    for offer in compute_offers(account, POLICY):
        if offer.kind == "instalment":
            assert offer.installment is not None and offer.tenor_months is not None
            assert offer.base is not None and offer.installment == offer.amount
            assert offer.installment * offer.tenor_months >= offer.base


def _stored_figure(account: Account, plan: str) -> int:
    if account.loan is not None:
        return account.loan.total_due
    assert account.statement is not None
    full = account.statement.total_due - account.open_dispute_amount
    return full if plan == "bayar_penuh" else min(account.statement.minimum_due, full)


@PROPERTIES
@given(ACCOUNTS)
def test_amounts_are_stored_figures_or_whole_thousands(account: Account) -> None:
    """(d) Standard options equal stored figures; other amounts are multiples of 1000."""
    offers = compute_offers(account, POLICY)
    for offer in offers:
        if offer.plan in STANDARD:
            assert offer.amount == _stored_figure(account, offer.plan)
        elif offer.kind == "deferral":
            assert offer.amount == 0
        else:
            assert offer.amount > 0 and offer.amount % 1000 == 0
        assert offer.excluded_dispute in (0, account.open_dispute_amount)
    if account.dpd > 30:
        assert "bayar_minimum" not in [offer.plan for offer in offers]
