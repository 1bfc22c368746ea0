"""Typed, validated model of the demo portfolio (portfolio.json).

Field names are exactly the JSON keys. Models are frozen, reject unknown keys and use
strict types (no silent "12" -> 12 coercion; dates are ISO strings in the JSON).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_PORTFOLIO_PATH = Path(__file__).parent / "data" / "portfolio.json"

Rupiah = Annotated[int, Field(ge=0)]
Channel = Literal["whatsapp", "sms", "email", "web"]


class PortfolioError(ValueError):
    """The portfolio file is missing, is not valid JSON or does not match the schema."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Statement(_Model):
    """The last credit-card statement."""

    statement_date: dt.date
    due_date: dt.date
    principal: Rupiah
    interest: Rupiah
    late_fee: Rupiah
    total_due: Rupiah
    minimum_due: Rupiah


class Loan(_Model):
    """A personal loan (KTA) with flat-rate monthly instalments."""

    principal_original: Rupiah
    tenor_months: Annotated[int, Field(gt=0)]
    monthly_installment: Rupiah
    monthly_flat_rate: Annotated[float, Field(ge=0, lt=1)]
    installments_paid: Annotated[int, Field(ge=0)]
    installments_overdue: Annotated[int, Field(ge=0)]
    outstanding_principal: Rupiah
    overdue_amount: Rupiah
    late_fee: Rupiah
    next_due_date: dt.date
    total_due: Rupiah
    due_day_of_month: Annotated[int, Field(ge=1, le=31)]
    oldest_unpaid_due_date: dt.date | None = None

    @model_validator(mode="after")
    def _check_paid(self) -> Self:
        if self.installments_paid > self.tenor_months:
            raise ValueError("installments_paid exceeds tenor_months")
        return self


class Dispute(_Model):
    """A transaction dispute raised by the debtor."""

    reference: Annotated[str, Field(min_length=1)]
    amount: Rupiah | None = None  # None: registered in chat without a stated amount
    reason: str
    opened: dt.date
    status: Literal["open", "resolved", "rejected", "withdrawn", "closed"]


class Contact(_Model):
    """Contact details and channel consent."""

    phone: str
    email: str
    preferred_channel: Channel
    channel_consent: dict[str, bool]
    opt_out: bool


class LastPayment(_Model):
    """The most recent payment received."""

    date: dt.date
    amount: Rupiah


class PromiseToPay(_Model):
    """An open promise to pay."""

    date: dt.date
    amount: Annotated[int, Field(gt=0)]
    recorded: dt.date


class Account(_Model):
    """A debtor's account: a credit card (statement) or a personal loan (loan)."""

    account_id: Annotated[str, Field(min_length=1)]
    product: Literal["kartu_kredit", "kta"]
    holder_name: str
    birth_date: dt.date
    card_last4: Annotated[str, Field(pattern=r"^\d{4}$")] | None
    loan_last4: Annotated[str, Field(pattern=r"^\d{4}$")] | None = None
    city: str
    timezone: str
    credit_limit: Rupiah | None = None
    statement: Statement | None = None
    loan: Loan | None = None
    dpd: Annotated[int, Field(ge=0)]
    kol: Annotated[int, Field(ge=1, le=5)]
    last_payment: LastPayment
    payment_history_days_late: list[Annotated[int, Field(ge=0)] | None]
    hardship_declared: bool
    dispute: Dispute | None
    consent_after_hours: bool
    grace_used_last_12m: bool
    promise_to_pay: PromiseToPay | None = None
    contact: Contact

    @model_validator(mode="after")
    def _check_product(self) -> Self:
        if self.product == "kartu_kredit":
            if self.statement is None or self.card_last4 is None or self.loan:
                raise ValueError("a kartu_kredit account needs statement and card_last4")
        elif self.loan is None or self.loan_last4 is None or self.statement:
            raise ValueError("a kta account needs loan and loan_last4")
        return self

    @property
    def last4(self) -> str:
        """Return the last four digits of the card or loan number."""
        return self.card_last4 or self.loan_last4 or ""

    @property
    def total_due(self) -> int:
        """Return the stored total due of the statement or the loan."""
        if self.statement is not None:
            return self.statement.total_due
        return self.loan.total_due if self.loan is not None else 0

    @property
    def open_dispute_amount(self) -> int:
        """Return the disputed amount while the dispute is open, else 0."""
        if self.dispute is not None and self.dispute.status == "open":
            return self.dispute.amount or 0
        return 0


class Portfolio(_Model):
    """A snapshot of the lender's accounts as of ``as_of``."""

    as_of: dt.date
    lender: str
    currency: Literal["IDR"]
    note: str
    accounts: list[Account]

    @model_validator(mode="after")
    def _check_unique_ids(self) -> Self:
        ids = [account.account_id for account in self.accounts]
        if len(set(ids)) != len(ids):
            raise ValueError("account_id values must be unique")
        return self

    def account(self, account_id: str) -> Account:
        """Return the account with ``account_id``.

        Raises:
            KeyError: If there is no such account.

        """
        for account in self.accounts:
            if account.account_id == account_id:
                return account
        raise KeyError(account_id)


def _location(loc: tuple[int | str, ...], data: Any) -> str:
    """Render a pydantic location, naming the account id when there is one."""
    text = ".".join(str(item) for item in loc)
    if len(loc) >= 2 and loc[0] == "accounts" and isinstance(loc[1], int):
        try:
            account_id = data["accounts"][loc[1]]["account_id"]
        except (KeyError, IndexError, TypeError):
            return text
        return f"{text} ({account_id})"
    return text


def _describe(exc: ValidationError, data: Any) -> str:
    parts = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        location = _location(error["loc"], data)
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def load_portfolio(path: Path | None = None) -> Portfolio:
    """Load and validate the portfolio.

    Args:
        path: The JSON file; defaults to the packaged ``agent/data/portfolio.json``.

    Returns:
        The validated portfolio.

    Raises:
        PortfolioError: If the file is missing, is not valid JSON or fails validation;
            the message names the file and the failing field.

    """
    source = path or DEFAULT_PORTFOLIO_PATH
    try:
        text = source.read_text(encoding="utf-8")
        data = json.loads(text)
    except OSError as exc:
        raise PortfolioError(f"{source.name}: cannot read {source}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise PortfolioError(f"{source.name}: invalid JSON: {exc}") from exc
    try:
        return Portfolio.model_validate_json(text)
    except ValidationError as exc:
        raise PortfolioError(f"{source.name}: {_describe(exc, data)}") from exc
