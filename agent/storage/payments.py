"""Payments received through the sandbox gateway's webhook: recorded once, then announced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from agent.storage.models import (
    AccountRow,
    Base,
    CardStatementRow,
    LoanRow,
    PaymentLinkRow,
    UTCDateTime,
)


class PaymentRow(Base):
    """A payment the gateway confirmed; at most one per payment link."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("payment_links.link_id"), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    amount: Mapped[int]
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    announced_session: Mapped[str | None] = mapped_column(String(64), nullable=True)


Outcome = Literal["recorded", "duplicate", "unknown_link", "amount_mismatch", "expired"]


@dataclass(frozen=True)
class PaymentResult:
    """What a webhook delivery did."""

    outcome: Outcome
    payment: dict[str, Any] | None = None


class PaymentBook:
    """Records gateway payments exactly once and reduces the account's balance."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        """Wrap a session factory bound to an initialised database."""
        self._factory = factory

    def record(
        self, link_id: str, amount: int, reference: str, paid_at: datetime, now: datetime
    ) -> PaymentResult:
        """Mark a link paid and record the payment, once; repeats change nothing.

        The link's status moves from ``open`` to ``paid`` in one conditional update inside
        the transaction that writes the payment and the new balance, so two concurrent
        deliveries of the same event cannot both count.
        """
        with self._factory.begin() as db:
            link = db.scalar(select(PaymentLinkRow).where(PaymentLinkRow.link_id == link_id))
            if link is None:
                return PaymentResult("unknown_link")
            existing = db.scalar(select(PaymentRow).where(PaymentRow.link_id == link_id))
            if existing is not None or link.status == "paid":
                return PaymentResult("duplicate", _as_dict(existing) if existing else None)
            if amount != link.amount:
                return PaymentResult("amount_mismatch")
            if link.expires_at < paid_at:
                return PaymentResult("expired")
            claimed = db.execute(
                update(PaymentLinkRow)
                .where(PaymentLinkRow.link_id == link_id, PaymentLinkRow.status == "open")
                .values(status="paid")
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return PaymentResult("duplicate")
            row = PaymentRow(
                reference=reference,
                link_id=link_id,
                account_id=link.account_id,
                amount=amount,
                paid_at=paid_at,
                received_at=now,
            )
            db.add(row)
            _reduce_balance(db, link.account_id, amount, paid_at.date())
            db.flush()
            return PaymentResult("recorded", _as_dict(row))

    def link_status(self, link_id: str) -> str | None:
        """``open``, ``paid`` or None for an unknown link."""
        with self._factory() as db:
            return db.scalar(select(PaymentLinkRow.status).where(PaymentLinkRow.link_id == link_id))

    def unannounced(self, account_id: str) -> list[dict[str, Any]]:
        """Payments of an account that no conversation has confirmed yet, oldest first."""
        with self._factory() as db:
            rows = db.scalars(
                select(PaymentRow)
                .where(PaymentRow.account_id == account_id, PaymentRow.announced_at.is_(None))
                .order_by(PaymentRow.paid_at)
            ).all()
            return [_as_dict(r) for r in rows]

    def mark_announced(self, references: list[str], session_id: str, at: datetime) -> None:
        """Remember that a conversation confirmed these payments to the debtor."""
        if not references:
            return
        with self._factory.begin() as db:
            db.execute(
                update(PaymentRow)
                .where(PaymentRow.reference.in_(references), PaymentRow.announced_at.is_(None))
                .values(announced_at=at, announced_session=session_id)
            )


def _reduce_balance(db: Session, account_id: str, amount: int, day: date) -> None:
    """Lower the stored amount due by the payment (never below zero); note the payment."""
    statement = db.scalar(
        select(CardStatementRow)
        .where(CardStatementRow.account_id == account_id)
        .order_by(CardStatementRow.id.desc())
    )
    if statement is not None:
        statement.total_due = max(0, statement.total_due - amount)
    loan = db.scalar(select(LoanRow).where(LoanRow.account_id == account_id))
    if loan is not None and "total_due" in loan.details:
        loan.details = {**loan.details, "total_due": max(0, loan.details["total_due"] - amount)}
    account = db.get(AccountRow, account_id)
    if account is not None:
        account.last_payment = {"date": day.isoformat(), "amount": amount}


def _as_dict(row: PaymentRow) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "link_id": row.link_id,
        "account_id": row.account_id,
        "amount": row.amount,
        "paid_at": row.paid_at.isoformat(),
    }
