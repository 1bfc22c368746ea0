"""Typed, validated model of the lender's collection policy (collection_policy.yaml).

Every key of the YAML is modelled (``extra="forbid"``, strict types), including the
documentation-only ones, so a typo or a wrong type is a load error naming the file and
the dotted path of the field. Formula strings are parsed by
:mod:`agent.policy_formulas`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic import ModelWrapValidatorHandler as WrapHandler

from agent.policy_formulas import (
    BaseField,
    CardScaledField,
    ClockTime,
    ConditionField,
    DiscountBandsField,
    DiscountedAmountField,
    DpdRangeField,
    KtaInstallmentField,
    LateFeeCapField,
    LoanCeilScaledField,
    NonNegativeInt,
    PositiveInt,
    Rate,
    Tenors,
    describe_validation_error,
    load_yaml,
)

DEFAULT_POLICY_PATH = Path(__file__).parent / "data" / "collection_policy.yaml"

Text = Annotated[str, Field(min_length=1)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class PolicyError(ValueError):
    """The policy file is missing, is not valid YAML or does not match the schema."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class _Ordered(_Model):
    """A mapping of plans that remembers the order of its keys in the YAML."""

    _order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _record_order(cls, data: Any, handler: WrapHandler[Self]) -> Self:
        model = handler(data)
        if isinstance(data, dict):
            model._order = tuple(str(key) for key in data)
        return model

    @property
    def order(self) -> tuple[str, ...]:
        """Return the plan ids in policy (YAML) order."""
        return self._order or tuple(type(self).model_fields)


class TimeWindow(_Model):
    """A daily time window; ``end`` is exclusive."""

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class Fees(_Model):
    """The lender's fee policy that produced the stored statements."""

    card_minimum_payment_rate: Rate
    card_late_fee_cap: LateFeeCapField
    card_late_fee_when_macet: NonNegativeInt
    card_interest_cap_monthly: Rate


class ContactWindow(TimeWindow):
    """When outbound (proactive) messages may be sent, in the debtor's time zone."""

    days: Annotated[list[Weekday], Field(min_length=1)]
    consent_after_hours: TimeWindow
    max_outbound_per_day: PositiveInt
    max_outbound_per_week: PositiveInt
    opt_out: Literal["account.contact.opt_out"]

    @model_validator(mode="after")
    def _check_limits(self) -> Self:
        if len(set(self.days)) != len(self.days):
            raise ValueError("contact_window.days lists a day twice")
        wider = self.consent_after_hours
        if wider.start > self.start or wider.end < self.end:
            raise ValueError("consent_after_hours must widen the contact window")
        if self.max_outbound_per_week < self.max_outbound_per_day:
            raise ValueError("max_outbound_per_week is below max_outbound_per_day")
        return self


class StandardOption(_Model):
    """A standard card payment option."""

    id: Literal["bayar_penuh", "bayar_minimum"]


class KtaStandardOption(_Model):
    """A standard personal-loan payment option."""

    id: Literal["bayar_tunggakan"]


class AnnuityPlan(_Model):
    """A card instalment plan priced as an annuity at ``monthly_rate``."""

    tenors: Tenors
    monthly_rate: Rate
    base: BaseField
    min_installment: PositiveInt


class CicilanTetap(AnnuityPlan):
    """Fixed-instalment conversion, for a dpd range."""

    eligible_dpd: DpdRangeField


class Restrukturisasi(AnnuityPlan):
    """Restructuring, for accounts meeting a condition."""

    eligible: ConditionField


class CardSettlement(_Model):
    """Lump-sum card settlement with a dpd-banded discount."""

    eligible_dpd_min: NonNegativeInt
    discount_rate: DiscountBandsField
    amount: DiscountedAmountField
    floor: CardScaledField
    pay_within_days: PositiveInt

    @model_validator(mode="after")
    def _check_bands(self) -> Self:
        if self.discount_rate[0].dpd.lo != self.eligible_dpd_min:
            raise ValueError("the first discount band must start at eligible_dpd_min")
        return self

    def discount_for(self, dpd: int) -> float | None:
        """Return the discount rate for ``dpd``, or None when not eligible."""
        for band in self.discount_rate:
            if band.dpd.contains(dpd):
                return band.rate
        return None


class Penundaan(_Model):
    """A payment holiday."""

    eligible: ConditionField
    months: PositiveInt


class CardPlans(_Ordered):
    """The card plans, in policy order."""

    cicilan_tetap: CicilanTetap
    restrukturisasi: Restrukturisasi
    pelunasan_diskon: CardSettlement
    penundaan: Penundaan


class Disputes(_Model):
    """Handling of an account with an open dispute."""

    excluded_amount: Literal["dispute.amount"]
    conduct: Text


class CardPolicy(_Model):
    """Credit-card (kartu kredit) rules."""

    standard: Annotated[list[StandardOption], Field(min_length=1)]
    plans: CardPlans
    hardship_in_chat: Text
    disputes: Disputes


class TenorExtension(_Model):
    """KTA tenor extension at the loan's own flat rate."""

    eligible_dpd: DpdRangeField
    extra_months: Tenors
    installment: KtaInstallmentField


class KtaSettlement(_Model):
    """KTA lump-sum settlement."""

    eligible_dpd_min: NonNegativeInt
    amount: LoanCeilScaledField


class KtaPlans(_Ordered):
    """The personal-loan plans, in policy order."""

    perpanjangan_tenor: TenorExtension
    pelunasan_diskon: KtaSettlement


class KtaPolicy(_Model):
    """Personal-loan (KTA) rules."""

    standard: Annotated[list[KtaStandardOption], Field(min_length=1)]
    plans: KtaPlans


class PromisesToPay(_Model):
    """Rules for recording a promise to pay."""

    max_days_ahead: NonNegativeInt
    min_amount: PositiveInt
    replaces_open_promise: bool


class Complaints(_Model):
    """Complaint handling (documentation for the complaint tool)."""

    response_due: Text


class WorkedExample(_Model):
    """An expected engine result that must hold in the tests."""

    account: Text
    plan: Text
    tenor: PositiveInt | None = None
    extra_months: PositiveInt | None = None
    installment: PositiveInt | None = None
    amount: PositiveInt | None = None
    tenors_offered: list[PositiveInt] | None = None

    @model_validator(mode="after")
    def _check_expectation(self) -> Self:
        if (self.installment, self.amount, self.tenors_offered) == (None, None, None):
            raise ValueError("needs one of installment, amount, tenors_offered")
        return self


class Policy(_Model):
    """The whole collection policy."""

    version: Text
    currency: Literal["IDR"]
    offer_validity_days: PositiveInt
    payment_link_validity_hours: PositiveInt
    fees: Fees
    contact_window: ContactWindow
    kartu_kredit: CardPolicy
    kta: KtaPolicy
    promises_to_pay: PromisesToPay
    complaints: Complaints
    worked_examples: list[WorkedExample]

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        cap = self.fees.card_interest_cap_monthly
        for plan_id in ("cicilan_tetap", "restrukturisasi"):
            rate = getattr(self.kartu_kredit.plans, plan_id).monthly_rate
            if rate > cap:
                raise ValueError(
                    f"kartu_kredit.plans.{plan_id}.monthly_rate {rate} exceeds "
                    f"fees.card_interest_cap_monthly {cap}"
                )
        known = self.plan_ids()
        for index, example in enumerate(self.worked_examples):
            if example.plan not in known:
                raise ValueError(f"worked_examples.{index}.plan: unknown {example.plan!r}")
        return self

    def plan_ids(self) -> set[str]:
        """Return every standard option and plan id of both products."""
        card, kta = self.kartu_kredit, self.kta
        ids = {o.id for o in card.standard} | {o.id for o in kta.standard}
        return ids | set(card.plans.order) | set(kta.plans.order)


def load_policy(path: Path | None = None) -> Policy:
    """Load and validate the collection policy.

    Args:
        path: The YAML file; defaults to the packaged ``agent/data`` copy.

    Returns:
        The validated policy.

    Raises:
        PolicyError: If the file is missing, is not valid YAML or fails validation;
            the message names the file and the dotted path of the failing field.

    """
    source = path or DEFAULT_POLICY_PATH
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{source.name}: cannot read {source}: {exc}") from exc
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise PolicyError(f"{source.name}: invalid YAML: {detail}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{source.name}: expected a mapping at the top level")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"{source.name}: {describe_validation_error(exc)}") from exc
