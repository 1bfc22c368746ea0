"""The pure offer engine: which payment options and plans an account may be offered.

The engine implements the collection policy exactly (see ``collection_policy.yaml``);
the agent may only offer what :func:`compute_offers` returns. All amounts are integer
rupiah; computed amounts are rounded up to the next Rp1.000 with :func:`ceil1000`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from pydantic import BaseModel

from agent.policy import AnnuityPlan, Policy
from agent.policy_formulas import BaseFormula
from agent.portfolio import Account, Loan, Statement

MINIMUM_PAYMENT_MAX_DPD = 30
"""bayar_minimum is offered only when dpd <= 30 (stated in the policy's comment)."""

RATE_TOLERANCE = 1e-10
"""Precision of :func:`effective_monthly_rate`."""


class Offer(BaseModel, frozen=True, extra="forbid"):
    """One payment option or plan the debtor may be offered (amounts in rupiah)."""

    plan: str  # the policy id: bayar_penuh, cicilan_tetap, pelunasan_diskon, ...
    kind: Literal["full", "minimum", "instalment", "settlement", "deferral"]
    amount: int  # paid now: full, minimum or settlement amount, or first instalment
    tenor_months: int | None = None
    installment: int | None = None
    base: int | None = None  # the amount the plan is computed on (dispute excluded)
    monthly_rate: float | None = None  # policy rate (card) or loan flat rate (KTA)
    waived: dict[str, int] = {}  # e.g. {"late_fee": 100000, "interest": 250000}
    discount: int | None = None  # rupiah discount of a settlement
    excluded_dispute: int = 0  # open disputed amount left out of base and amount
    pay_within_days: int | None = None  # days after acceptance to pay a settlement
    deferral_months: int | None = None


def ceil1000(x: float) -> int:
    """Round ``x`` up to the next multiple of Rp1.000.

    ``x`` is first rounded to 6 decimals, so float noise such as 15120000.000000002
    does not push an exact multiple of 1000 up to the next one.

    Raises:
        ValueError: If ``x`` is not finite.

    """
    if not math.isfinite(x):
        raise ValueError(f"cannot round {x!r}")
    value = Decimal(repr(x)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
    thousands = (value / 1000).to_integral_value(rounding=ROUND_CEILING)
    return int(thousands) * 1000


def annuity_installment(base: int, rate: float, tenor: int) -> int:
    """Return the instalment ``ceil1000(base * r / (1 - (1 + r) ** -tenor))``."""
    if rate == 0:
        return ceil1000(base / tenor)
    return ceil1000(base * rate / (1 - (1 + rate) ** -tenor))


def _present_value(installment: int, rate: float, tenor: int) -> float:
    if rate == 0:
        return float(installment * tenor)
    return installment * (1 - (1 + rate) ** -tenor) / rate


def effective_monthly_rate(base: int, installment: int, tenor: int) -> float:
    """Solve ``base = installment * (1 - (1 + r) ** -tenor) / r`` for r by bisection.

    Args:
        base: The amount financed (> 0).
        installment: The monthly instalment (> 0).
        tenor: Number of monthly instalments (> 0).

    Returns:
        The effective monthly rate, within 1e-10.

    Raises:
        ValueError: If an argument is not positive or the instalments do not repay
            the base (the rate would be negative).

    """
    if min(base, installment, tenor) <= 0:
        raise ValueError("base, installment and tenor must be positive")
    if installment * tenor < base:
        raise ValueError("the instalments do not repay the base")
    low, high = 0.0, 1.0
    while _present_value(installment, high, tenor) > base:
        low, high = high, high * 2
    while high - low > RATE_TOLERANCE:
        middle = (low + high) / 2
        if _present_value(installment, middle, tenor) > base:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _statement(account: Account) -> Statement:
    if account.statement is None:
        raise ValueError(f"{account.account_id}: a card account needs a statement")
    return account.statement


def _loan(account: Account) -> Loan:
    if account.loan is None:
        raise ValueError(f"{account.account_id}: a kta account needs a loan")
    return account.loan


def _figure(record: Statement | Loan, field: str) -> int:
    value = getattr(record, field)
    if not isinstance(value, int):
        raise TypeError(f"{field} is not an amount")
    return value


def _flags(account: Account) -> dict[str, bool]:
    return {
        "hardship_declared": account.hardship_declared,
        "grace_used_last_12m": account.grace_used_last_12m,
    }


def _card_standard(account: Account, policy: Policy) -> list[Offer]:
    statement = _statement(account)
    dispute = account.open_dispute_amount
    full = statement.total_due - dispute
    offers = []
    for option in policy.kartu_kredit.standard:
        if option.id == "bayar_penuh":
            offers.append(Offer(plan=option.id, kind="full", amount=full, excluded_dispute=dispute))
        elif account.dpd <= MINIMUM_PAYMENT_MAX_DPD:
            minimum = min(statement.minimum_due, full)
            offers.append(Offer(plan=option.id, kind="minimum", amount=minimum))
    return [offer for offer in offers if offer.amount > 0]


def _base_and_waived(formula: BaseFormula, statement: Statement) -> tuple[int, dict[str, int]]:
    base = _figure(statement, formula.minuend)
    base -= sum(_figure(statement, field) for field in formula.subtrahends)
    waived = {field: _figure(statement, field) for field in formula.waived_fields()}
    return base, {field: value for field, value in waived.items() if value > 0}


def _instalment(
    plan: str, tenor: int, installment: int, base: int, rate: float, **extra: Any
) -> Offer:
    return Offer(
        plan=plan,
        kind="instalment",
        amount=installment,
        tenor_months=tenor,
        installment=installment,
        base=base,
        monthly_rate=rate,
        **extra,
    )


def _annuity_offers(
    plan_id: str, plan: AnnuityPlan, account: Account, policy: Policy
) -> list[Offer]:
    """Offer each tenor whose instalment meets the minimum and the interest cap."""
    dispute = account.open_dispute_amount
    gross, waived = _base_and_waived(plan.base, _statement(account))
    base = gross - dispute
    if base <= 0:
        return []
    offers = []
    for tenor in sorted(plan.tenors):
        installment = annuity_installment(base, plan.monthly_rate, tenor)
        if installment < plan.min_installment:
            continue
        effective = effective_monthly_rate(base, installment, tenor)
        if effective > policy.fees.card_interest_cap_monthly:
            continue
        offer = _instalment(
            plan_id,
            tenor,
            installment,
            base,
            plan.monthly_rate,
            waived=waived,
            excluded_dispute=dispute,
        )
        offers.append(offer)
    return offers


def _cicilan_tetap(account: Account, policy: Policy) -> list[Offer]:
    plan = policy.kartu_kredit.plans.cicilan_tetap
    if not plan.eligible_dpd.contains(account.dpd):
        return []
    return _annuity_offers("cicilan_tetap", plan, account, policy)


def _restrukturisasi(account: Account, policy: Policy) -> list[Offer]:
    plan = policy.kartu_kredit.plans.restrukturisasi
    if not plan.eligible.holds(account.dpd, _flags(account)):
        return []
    return _annuity_offers("restrukturisasi", plan, account, policy)


def _card_settlement(account: Account, policy: Policy) -> list[Offer]:
    """Discounted lump sum, never below the floor and only if below the full amount."""
    plan = policy.kartu_kredit.plans.pelunasan_diskon
    rate = plan.discount_for(account.dpd)
    if account.dpd < plan.eligible_dpd_min or rate is None:
        return []
    statement = _statement(account)
    dispute = account.open_dispute_amount
    base = _figure(statement, plan.amount.field) - dispute
    floor_base = max(0, _figure(statement, plan.floor.field) - dispute)
    floor = ceil1000(floor_base * plan.floor.factor)
    amount = max(ceil1000(base * (1 - rate)), floor)
    if amount <= 0 or amount >= base:
        return []
    offer = Offer(
        plan="pelunasan_diskon",
        kind="settlement",
        amount=amount,
        base=base,
        discount=base - amount,
        excluded_dispute=dispute,
        pay_within_days=plan.pay_within_days,
    )
    return [offer]


def _penundaan(account: Account, policy: Policy) -> list[Offer]:
    plan = policy.kartu_kredit.plans.penundaan
    if not plan.eligible.holds(account.dpd, _flags(account)):
        return []
    dispute = account.open_dispute_amount
    return [
        Offer(
            plan="penundaan",
            kind="deferral",
            amount=0,
            deferral_months=plan.months,
            excluded_dispute=dispute,
        )
    ]


def _kta_standard(account: Account, policy: Policy) -> list[Offer]:
    loan = _loan(account)
    offers = [
        Offer(plan=option.id, kind="full", amount=loan.total_due) for option in policy.kta.standard
    ]
    return [offer for offer in offers if offer.amount > 0]


def _perpanjangan_tenor(account: Account, policy: Policy) -> list[Offer]:
    """Re-spread the outstanding principal over the remaining plus extra months."""
    plan = policy.kta.plans.perpanjangan_tenor
    loan = _loan(account)
    principal = loan.outstanding_principal
    if not plan.eligible_dpd.contains(account.dpd) or principal <= 0:
        return []
    offers = []
    for extra in sorted(plan.extra_months):
        months = loan.tenor_months - loan.installments_paid + extra
        total = principal * (1 + loan.monthly_flat_rate * months)
        installment = ceil1000(total / months)
        rate = loan.monthly_flat_rate
        offers.append(_instalment("perpanjangan_tenor", months, installment, principal, rate))
    return offers


def _kta_settlement(account: Account, policy: Policy) -> list[Offer]:
    plan = policy.kta.plans.pelunasan_diskon
    if account.dpd < plan.eligible_dpd_min:
        return []
    base = _figure(_loan(account), plan.amount.field)
    amount = ceil1000(base * plan.amount.factor)
    if amount <= 0 or amount >= base:
        return []
    offer = Offer(
        plan="pelunasan_diskon",
        kind="settlement",
        amount=amount,
        base=base,
        discount=base - amount,
    )
    return [offer]


_Builder = Callable[[Account, Policy], list[Offer]]
_CARD_PLANS: dict[str, _Builder] = {
    "cicilan_tetap": _cicilan_tetap,
    "restrukturisasi": _restrukturisasi,
    "pelunasan_diskon": _card_settlement,
    "penundaan": _penundaan,
}
_KTA_PLANS: dict[str, _Builder] = {
    "perpanjangan_tenor": _perpanjangan_tenor,
    "pelunasan_diskon": _kta_settlement,
}


def compute_offers(account: Account, policy: Policy) -> list[Offer]:
    """Return every option and plan the policy allows for ``account``.

    Standard options come first, then the plans in policy order, tenors ascending.

    Args:
        account: The debtor's account (figures as stored).
        policy: The validated collection policy.

    Returns:
        The offers; an account with dpd 0 still gets its standard options.

    """
    if account.product == "kartu_kredit":
        offers = _card_standard(account, policy)
        plans, order = _CARD_PLANS, policy.kartu_kredit.plans.order
    else:
        offers = _kta_standard(account, policy)
        plans, order = _KTA_PLANS, policy.kta.plans.order
    for plan_id in order:
        offers.extend(plans[plan_id](account, policy))
    return offers
