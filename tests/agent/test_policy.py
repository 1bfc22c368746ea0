"""Tests of the policy models and loader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from agent.policy import DEFAULT_POLICY_PATH, PolicyError, load_policy
from agent.policy_formulas import DpdAtom, DpdRange, FlagAtom

FILE = "collection_policy.yaml"
CICILAN = "kartu_kredit.plans.cicilan_tetap"
SETTLEMENT = "kartu_kredit.plans.pelunasan_diskon"


def _write_variant(tmp_path: Path, old: str, new: str) -> Path:
    """Write a copy of the packaged policy with ``old`` (occurring once) replaced."""
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / FILE
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_packaged_policy_loads() -> None:
    """The packaged policy validates and exposes typed values."""
    policy = load_policy()
    assert (policy.version, policy.currency) == ("2026-11", "IDR")
    assert (policy.offer_validity_days, policy.payment_link_validity_hours) == (7, 24)
    assert policy.fees.card_interest_cap_monthly == 0.0175
    assert (policy.fees.card_late_fee_cap.rate, policy.fees.card_late_fee_cap.cap) == (
        0.01,
        100000,
    )
    assert len(policy.worked_examples) == 11


def test_contact_window_is_typed() -> None:
    """Documentation-only keys are typed as well."""
    window = load_policy().contact_window
    assert window.days == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert (window.start, window.end) == (dt.time(8, 0), dt.time(20, 0))
    consent = window.consent_after_hours
    assert (consent.start, consent.end) == (dt.time(6, 0), dt.time(22, 0))
    assert (window.max_outbound_per_day, window.max_outbound_per_week) == (2, 6)
    assert window.opt_out == "account.contact.opt_out"
    promises = load_policy().promises_to_pay
    assert (promises.max_days_ahead, promises.min_amount) == (14, 1)
    assert promises.replaces_open_promise is True


def test_formula_parameters_are_parsed() -> None:
    """Numbers embedded in formula strings are extracted and typed."""
    plans = load_policy().kartu_kredit.plans
    assert plans.order == ("cicilan_tetap", "restrukturisasi", "pelunasan_diskon", "penundaan")
    assert plans.cicilan_tetap.eligible_dpd == DpdRange(lo=1, hi=90)
    assert (plans.cicilan_tetap.base.minuend, plans.cicilan_tetap.base.subtrahends) == (
        "total_due",
        ("late_fee",),
    )
    assert plans.restrukturisasi.base.waived_fields() == ("interest", "late_fee")
    settlement = plans.pelunasan_diskon
    bands = [(b.dpd.lo, b.dpd.hi, b.rate) for b in settlement.discount_rate]
    assert bands == [(91, 180, 0.20), (181, None, 0.40)]
    assert (settlement.floor.field, settlement.floor.factor) == ("principal", 0.5)
    assert settlement.amount.field == "total_due"
    assert [settlement.discount_for(d) for d in (90, 91, 180, 181, 999)] == [
        None,
        0.2,
        0.2,
        0.4,
        0.4,
    ]


def test_conditions_are_parsed_and_evaluated() -> None:
    """Eligibility formulas become conditions with the right semantics."""
    plans = load_policy().kartu_kredit.plans
    restructure = plans.restrukturisasi.eligible
    assert restructure.any_of == (
        (DpdAtom(dpd=DpdRange(lo=91, hi=180)),),
        (FlagAtom(flag="hardship_declared"),),
    )
    no_flags = {"hardship_declared": False, "grace_used_last_12m": False}
    hardship = {"hardship_declared": True, "grace_used_last_12m": False}
    assert [restructure.holds(d, no_flags) for d in (90, 91, 180, 181)] == [
        False,
        True,
        True,
        False,
    ]
    assert restructure.holds(0, hardship)
    deferral = plans.penundaan.eligible
    assert deferral.holds(0, hardship)
    assert not deferral.holds(0, no_flags)
    assert not deferral.holds(0, {"hardship_declared": True, "grace_used_last_12m": True})


def test_kta_plans_are_parsed() -> None:
    """KTA plan parameters are typed, including the settlement factor."""
    kta = load_policy().kta
    assert [option.id for option in kta.standard] == ["bayar_tunggakan"]
    assert kta.plans.perpanjangan_tenor.eligible_dpd == DpdRange(lo=1, hi=180)
    assert kta.plans.perpanjangan_tenor.extra_months == [6, 12]
    amount = kta.plans.pelunasan_diskon.amount
    assert (amount.field, amount.factor, amount.ceil1000) == ("outstanding_principal", 0.70, True)


def test_wrong_type_message_names_file_and_dotted_path(tmp_path: Path) -> None:
    """The error message has the documented shape."""
    path = _write_variant(tmp_path, "monthly_rate: 0.0119", 'monthly_rate: "abc"')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value) == f"{FILE}: {CICILAN}.monthly_rate: Input should be a valid number"


MALFORMED = [
    pytest.param(
        "      min_installment: 200000",
        "      min_instalment: 200000",
        f"{CICILAN}.min_instalment: Extra inputs are not permitted",
        id="unknown-key",
    ),
    pytest.param(
        "monthly_rate: 0.0119",
        "monthly_rate: '0.0119'",
        f"{CICILAN}.monthly_rate: Input should be a valid number",
        id="quoted-number",
    ),
    pytest.param(
        "tenors: [3, 6, 12]",
        "tenors: [6, 3, 12]",
        f"{CICILAN}.tenors: values must be strictly ascending",
        id="tenor-order",
    ),
    pytest.param(
        "eligible_dpd: [1, 90]",
        "eligible_dpd: [91, 90]",
        f"{CICILAN}.eligible_dpd: dpd range [91, 90] must have lo <= hi",
        id="reversed-dpd-range",
    ),
    pytest.param(
        "base: total_due - late_fee",
        "base: total_due * 2",
        f"{CICILAN}.base: unsupported base 'total_due * 2'; expected total_due",
        id="unsupported-base",
    ),
    pytest.param(
        "floor: principal * 0.5",
        "floor: principal / 2",
        f"{SETTLEMENT}.floor: unsupported formula 'principal / 2'; expected",
        id="unsupported-floor",
    ),
    pytest.param(
        "amount: ceil1000(total_due * (1 - discount_rate))",
        "amount: ceil1000(total_due - discount_rate)",
        f"{SETTLEMENT}.amount: unsupported formula",
        id="unsupported-settlement-amount",
    ),
    pytest.param(
        "eligible: dpd in [91, 180] or hardship_declared",
        "eligible: dpd between 91 and 180",
        "kartu_kredit.plans.restrukturisasi.eligible: unsupported condition term",
        id="unsupported-condition",
    ),
    pytest.param(
        "eligible: hardship_declared and not grace_used_last_12m",
        "eligible: hardship_declared and not grace_used",
        "kartu_kredit.plans.penundaan.eligible: unsupported condition term 'not grace_used'",
        id="unknown-flag",
    ),
    pytest.param(
        '"181+": 0.40',
        '"182+": 0.40',
        f"{SETTLEMENT}.discount_rate: discount bands must be contiguous",
        id="discount-gap",
    ),
    pytest.param(
        "ceil1000(outstanding_principal * 0.70)",
        "ceil1000(outstanding_principal * 1.70)",
        "kta.plans.pelunasan_diskon.amount.factor: Input should be less than or equal to 1",
        id="settlement-factor",
    ),
    pytest.param(
        "loan.monthly_flat_rate * months) / months)",
        "loan.monthly_flat_rate * months) / (months + 1))",
        "kta.plans.perpanjangan_tenor.installment: unsupported formula",
        id="unsupported-kta-installment",
    ),
    pytest.param(
        "card_late_fee_cap: min(0.01 * total_due, 100000)",
        "card_late_fee_cap: 100000",
        "fees.card_late_fee_cap: expected a formula string of the form 'min(",
        id="late-fee-cap",
    ),
    pytest.param(
        "monthly_rate: 0.0099",
        "monthly_rate: 0.0199",
        "restrukturisasi.monthly_rate 0.0199 exceeds fees.card_interest_cap_monthly 0.0175",
        id="rate-above-cap",
    ),
    pytest.param(
        'end: "20:00"',
        "end: 20:00",  # YAML 1.1 reads this as the sexagesimal integer 1200
        'contact_window.end: expected a quoted time "HH:MM"',
        id="unquoted-time",
    ),
    pytest.param(
        "- id: bayar_minimum ",
        "- id: bayar_minimal ",
        "kartu_kredit.standard.1.id: Input should be 'bayar_penuh' or 'bayar_minimum'",
        id="unknown-standard-option",
    ),
    pytest.param(
        "plan: perpanjangan_tenor, extra_months: 6,",
        "plan: perpanjangan, extra_months: 6,",
        "worked_examples.9.plan: unknown 'perpanjangan'",
        id="unknown-worked-example-plan",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), MALFORMED)
def test_malformed_policy_is_rejected(tmp_path: Path, old: str, new: str, expected: str) -> None:
    """Each malformed copy raises a PolicyError naming the file and the field."""
    path = _write_variant(tmp_path, old, new)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert message.startswith(f"{FILE}: "), message
    assert expected in message, message


def test_bad_yaml_is_a_policy_error(tmp_path: Path) -> None:
    """A YAML syntax error names the file and the position."""
    path = _write_variant(tmp_path, "tenors: [3, 6, 12]", "tenors: [3, 6, 12")
    with pytest.raises(PolicyError, match=rf"^{FILE}: invalid YAML: .*line \d+"):
        load_policy(path)


def test_duplicate_key_is_a_policy_error(tmp_path: Path) -> None:
    """A repeated key would silently override the first one; it is rejected."""
    path = _write_variant(tmp_path, "      months: 1", "      months: 1\n      months: 2")
    with pytest.raises(PolicyError, match=rf"^{FILE}: invalid YAML: .*duplicate key 'months'"):
        load_policy(path)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    """A missing file names the file."""
    with pytest.raises(PolicyError, match=rf"^{FILE}: cannot read"):
        load_policy(tmp_path / FILE)


def test_non_mapping_document_is_a_policy_error(tmp_path: Path) -> None:
    """A YAML document that is not a mapping is rejected."""
    path = tmp_path / FILE
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="expected a mapping"):
        load_policy(path)


def test_policy_error_is_a_value_error() -> None:
    """Callers may catch PolicyError as ValueError."""
    assert issubclass(PolicyError, ValueError)
