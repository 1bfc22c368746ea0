"""Parsers and field types for the formula strings of the collection policy.

The policy YAML states some rules as small formulas (``base: total_due - late_fee``,
``floor: principal * 0.5``, ``eligible: dpd in [91, 180] or hardship_declared``...).
Each parser here accepts exactly the shapes the offer engine implements, extracts the
numeric parameters into typed models and raises ``ValueError`` (turned into a
validation error naming the field) for any other shape, so the YAML and the engine
can never silently disagree. The ``*Field`` aliases attach the parsers to the policy
models' fields; :func:`load_yaml` rejects duplicate keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from functools import partial
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

CardField = Literal["total_due", "principal", "interest", "late_fee"]
Flag = Literal["hardship_declared", "grace_used_last_12m"]

CARD_FIELDS: tuple[str, ...] = ("total_due", "principal", "interest", "late_fee")
LOAN_FIELDS: tuple[str, ...] = ("outstanding_principal", "total_due")
FLAGS: tuple[str, ...] = ("hardship_declared", "grace_used_last_12m")
KTA_INSTALLMENT_FORMULA = (
    "ceil1000(outstanding_principal * (1 + loan.monthly_flat_rate * months) / months)"
)

_NUMBER = r"(\d+(?:\.\d+)?)"
_IDENT = r"([a-z_][a-z0-9_]*)"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class DpdRange(_Frozen):
    """An inclusive range of days past due; ``hi`` None means open-ended."""

    lo: int = Field(ge=0)
    hi: int | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if self.hi is not None and self.hi < self.lo:
            raise ValueError(f"dpd range [{self.lo}, {self.hi}] must have lo <= hi")
        return self

    def contains(self, dpd: int) -> bool:
        """Return whether ``dpd`` lies in the range (bounds inclusive)."""
        return dpd >= self.lo and (self.hi is None or dpd <= self.hi)


class DiscountBand(_Frozen):
    """A settlement discount applying to a dpd range."""

    dpd: DpdRange
    rate: float = Field(gt=0, lt=1)


class BaseFormula(_Frozen):
    """``<minuend> [- <field>]...`` over statement fields, e.g. total_due - late_fee."""

    minuend: Literal["total_due", "principal"]
    subtrahends: tuple[Literal["interest", "late_fee"], ...] = ()

    def waived_fields(self) -> tuple[str, ...]:
        """Return the charges of the total due that this base leaves out."""
        if self.minuend == "principal":
            return ("interest", "late_fee")
        return self.subtrahends


class Scaled(_Frozen):
    """``[ceil1000(]<field> * <factor>[)]``, e.g. principal * 0.5."""

    field: str
    factor: float = Field(gt=0, le=1)
    ceil1000: bool


class DiscountedAmount(_Frozen):
    """``ceil1000(<field> * (1 - discount_rate))``."""

    field: CardField


class LateFeeCap(_Frozen):
    """``min(<rate> * total_due, <cap>)``: the card late fee cap per missed cycle."""

    rate: float = Field(gt=0, lt=1)
    cap: int = Field(gt=0)


class DpdAtom(_Frozen):
    """A condition atom on the days past due."""

    dpd: DpdRange


class FlagAtom(_Frozen):
    """A condition atom on an account flag, possibly negated."""

    flag: Flag
    negated: bool = False


class Condition(_Frozen):
    """A disjunction of conjunctions of atoms (``and`` binds tighter than ``or``)."""

    any_of: tuple[tuple[DpdAtom | FlagAtom, ...], ...]

    def holds(self, dpd: int, flags: Mapping[str, bool]) -> bool:
        """Evaluate the condition for an account's dpd and flags."""
        return any(all(_atom_holds(a, dpd, flags) for a in c) for c in self.any_of)


def _atom_holds(atom: DpdAtom | FlagAtom, dpd: int, flags: Mapping[str, bool]) -> bool:
    if isinstance(atom, DpdAtom):
        return atom.dpd.contains(dpd)
    return flags[atom.flag] != atom.negated


def _text(value: Any, expected: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a formula string of the form {expected!r}")
    return " ".join(value.split())


def parse_dpd_range(value: Any) -> Any:
    """Parse ``[lo, hi]`` (inclusive) into a DpdRange."""
    if isinstance(value, DpdRange):
        return value
    if not (isinstance(value, list) and len(value) == 2):
        raise ValueError("expected a dpd range of the form [lo, hi]")
    if any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise ValueError("expected a dpd range of two integers [lo, hi]")
    return DpdRange(lo=value[0], hi=value[1])


def parse_discount_bands(value: Any) -> Any:
    """Parse ``{"91-180": 0.20, "181+": 0.40}`` into contiguous DiscountBands."""
    expected = 'a mapping like {"91-180": 0.20, "181+": 0.40}'
    if isinstance(value, tuple):
        return value
    if not isinstance(value, dict) or not value:
        raise ValueError(f"expected {expected}")
    bands = []
    for key, rate in value.items():
        match = re.fullmatch(r"(\d+)(?:-(\d+)|\+)", str(key).strip())
        if match is None or isinstance(rate, bool) or not isinstance(rate, int | float):
            raise ValueError(f"bad band {key!r}: {rate!r}; expected {expected}")
        if not 0 < rate < 1:
            raise ValueError(f"band {key!r}: rate {rate} must be between 0 and 1")
        hi = int(match[2]) if match[2] else None
        dpd = DpdRange(lo=int(match[1]), hi=hi)
        bands.append(DiscountBand(dpd=dpd, rate=float(rate)))
    bands.sort(key=lambda band: band.dpd.lo)
    for prev, band in zip(bands, bands[1:], strict=False):
        if prev.dpd.hi is None or band.dpd.lo != prev.dpd.hi + 1:
            raise ValueError("discount bands must be contiguous and not overlap")
    if bands[-1].dpd.hi is not None:
        raise ValueError('the last discount band must be open-ended, e.g. "181+"')
    return tuple(bands)


def parse_base(value: Any) -> Any:
    """Parse ``total_due [- late_fee] [- interest]`` or ``principal``."""
    expected = "total_due [- late_fee] [- interest] | principal"
    if isinstance(value, BaseFormula):
        return value
    terms = [t.strip() for t in _text(value, expected).split(" - ")]
    head, rest = terms[0], terms[1:]
    valid = head == "total_due" or (head == "principal" and not rest)
    if not valid or any(t not in ("interest", "late_fee") for t in rest):
        raise ValueError(f"unsupported base {value!r}; expected {expected}")
    if len(set(rest)) != len(rest):
        raise ValueError(f"base {value!r} subtracts the same field twice")
    return BaseFormula.model_validate({"minuend": head, "subtrahends": tuple(rest)})


def parse_scaled(value: Any, fields: tuple[str, ...], ceil: bool) -> Any:
    """Parse ``<field> * <factor>`` (wrapped in ``ceil1000(...)`` when ``ceil``)."""
    inner = f"<{'|'.join(fields)}> * <factor>"
    expected = f"ceil1000({inner})" if ceil else f"{inner} or ceil1000({inner})"
    if isinstance(value, Scaled):
        return value
    text = _text(value, expected)
    pattern = rf"{_IDENT} \* {_NUMBER}"
    wrapped = re.fullmatch(rf"ceil1000\({pattern}\)", text)
    match = wrapped or (None if ceil else re.fullmatch(pattern, text))
    if match is None or match[1] not in fields:
        raise ValueError(f"unsupported formula {value!r}; expected {expected}")
    return Scaled(field=match[1], factor=float(match[2]), ceil1000=wrapped is not None)


def parse_discounted_amount(value: Any) -> Any:
    """Parse ``ceil1000(<field> * (1 - discount_rate))``."""
    expected = "ceil1000(<total_due|principal> * (1 - discount_rate))"
    if isinstance(value, DiscountedAmount):
        return value
    text = _text(value, expected)
    match = re.fullmatch(rf"ceil1000\({_IDENT} \* \(1 - discount_rate\)\)", text)
    if match is None or match[1] not in ("total_due", "principal"):
        raise ValueError(f"unsupported formula {value!r}; expected {expected}")
    return DiscountedAmount.model_validate({"field": match[1]})


def parse_late_fee_cap(value: Any) -> Any:
    """Parse ``min(<rate> * total_due, <cap>)``."""
    expected = "min(<rate> * total_due, <cap>)"
    if isinstance(value, LateFeeCap):
        return value
    text = _text(value, expected)
    match = re.fullmatch(rf"min\({_NUMBER} \* total_due, ?(\d+)\)", text)
    if match is None:
        raise ValueError(f"unsupported formula {value!r}; expected {expected}")
    return LateFeeCap(rate=float(match[1]), cap=int(match[2]))


def parse_kta_installment(value: Any) -> Any:
    """Accept only the KTA tenor-extension instalment formula the engine implements."""
    if _text(value, KTA_INSTALLMENT_FORMULA) != KTA_INSTALLMENT_FORMULA:
        raise ValueError(f"unsupported formula {value!r}; expected {KTA_INSTALLMENT_FORMULA!r}")
    return KTA_INSTALLMENT_FORMULA


def _parse_atom(text: str) -> DpdAtom | FlagAtom:
    match = re.fullmatch(r"dpd in \[(\d+), ?(\d+)\]", text)
    if match is not None:
        return DpdAtom(dpd=parse_dpd_range([int(match[1]), int(match[2])]))
    match = re.fullmatch(r"dpd >= (\d+)", text)
    if match is not None:
        return DpdAtom(dpd=DpdRange(lo=int(match[1])))
    match = re.fullmatch(rf"(not )?{_IDENT}", text)
    if match is not None and match[2] in FLAGS:
        return FlagAtom.model_validate({"flag": match[2], "negated": bool(match[1])})
    raise ValueError(f"unsupported condition term {text!r}")


def parse_condition(value: Any) -> Any:
    """Parse e.g. ``dpd in [91, 180] or hardship_declared``.

    Terms are ``dpd in [lo, hi]``, ``dpd >= n`` and ``[not] <flag>`` with flag one of
    hardship_declared, grace_used_last_12m; they are joined by ``and`` / ``or`` (no
    parentheses; ``and`` binds tighter).

    """
    expected = "term [and|or term]..., term: dpd in [lo, hi] | dpd >= n | [not] flag"
    if isinstance(value, Condition):
        return value
    text = _text(value, expected)
    try:
        clauses = tuple(
            tuple(_parse_atom(term) for term in clause.split(" and "))
            for clause in text.split(" or ")
        )
    except ValidationError as exc:
        reason = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise ValueError(f"{reason} in {value!r}") from None
    except ValueError as exc:
        raise ValueError(f"{exc} in {value!r}; expected {expected}") from None
    return Condition(any_of=clauses)


def _parse_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        raise ValueError('expected a quoted time "HH:MM"')
    return time.fromisoformat(value)


def _ascending(values: list[int]) -> list[int]:
    if any(a >= b for a, b in zip(values, values[1:], strict=False)):
        raise ValueError("values must be strictly ascending")
    return values


Rate = Annotated[float, Field(gt=0, lt=1)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
ClockTime = Annotated[time, BeforeValidator(_parse_time)]
Tenors = Annotated[list[PositiveInt], Field(min_length=1), AfterValidator(_ascending)]
DpdRangeField = Annotated[DpdRange, BeforeValidator(parse_dpd_range)]
ConditionField = Annotated[Condition, BeforeValidator(parse_condition)]
BaseField = Annotated[BaseFormula, BeforeValidator(parse_base)]
LateFeeCapField = Annotated[LateFeeCap, BeforeValidator(parse_late_fee_cap)]
DiscountBandsField = Annotated[tuple[DiscountBand, ...], BeforeValidator(parse_discount_bands)]
DiscountedAmountField = Annotated[DiscountedAmount, BeforeValidator(parse_discounted_amount)]
CardScaledField = Annotated[
    Scaled, BeforeValidator(partial(parse_scaled, fields=CARD_FIELDS, ceil=False))
]
LoanCeilScaledField = Annotated[
    Scaled, BeforeValidator(partial(parse_scaled, fields=LOAN_FIELDS, ceil=True))
]
KtaInstallmentField = Annotated[str, BeforeValidator(parse_kta_installment)]


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate mapping keys."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Any:
    keys: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        keys.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str) -> Any:
    """Parse YAML with a safe loader that rejects duplicate mapping keys.

    Raises:
        yaml.YAMLError: On a syntax error or a duplicate key.

    """
    return yaml.load(text, Loader=_UniqueKeyLoader)


def describe_validation_error(exc: ValidationError) -> str:
    """Return ``dotted.path: message`` for every error, joined by "; "."""
    parts = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        location = ".".join(str(item) for item in error["loc"])
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)
