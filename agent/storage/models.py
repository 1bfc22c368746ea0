"""SQLAlchemy 2 tables: the demo portfolio, what the agent records, and the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC; SQLite would otherwise drop the offset silently."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC; refuse naive ones."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to what was stored."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every Santun table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime()}


class AccountRow(Base):
    """A debtor's account as loaded from the portfolio snapshot."""

    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    product: Mapped[str] = mapped_column(String(16))
    holder_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date]
    card_last4: Mapped[str | None] = mapped_column(String(4), index=True)
    loan_last4: Mapped[str | None] = mapped_column(String(4), index=True)
    city: Mapped[str] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(40))
    credit_limit: Mapped[int | None]
    dpd: Mapped[int]
    kol: Mapped[int]
    hardship_declared: Mapped[bool]
    consent_after_hours: Mapped[bool]
    grace_used_last_12m: Mapped[bool]
    last_payment: Mapped[dict[str, Any]]
    payment_history_days_late: Mapped[list[Any]]
    contact: Mapped[dict[str, Any]]
    as_of: Mapped[date]


class CardStatementRow(Base):
    """The latest card statement of an account, figures as stored."""

    __tablename__ = "card_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), unique=True)
    statement_date: Mapped[date]
    due_date: Mapped[date]
    principal: Mapped[int]
    interest: Mapped[int]
    late_fee: Mapped[int]
    total_due: Mapped[int]
    minimum_due: Mapped[int]


class LoanRow(Base):
    """A personal loan (KTA), figures as stored."""

    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), unique=True)
    details: Mapped[dict[str, Any]]


class DisputeRow(Base):
    """A disputed transaction or amount."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    amount: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text)
    opened: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))
    session_id: Mapped[str | None] = mapped_column(String(64))


class OfferRow(Base):
    """A payment plan offered to a debtor, with its expiry."""

    __tablename__ = "offers"

    offer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    plan: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int]
    tenor_months: Mapped[int | None]
    details: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="offered")
    accepted_at: Mapped[datetime | None]
    session_id: Mapped[str | None] = mapped_column(String(64))


class PaymentLinkRow(Base):
    """A signed payment link."""

    __tablename__ = "payment_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    offer_id: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[int]
    token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")


class PromiseRow(Base):
    """A promise to pay; a new one replaces the open one, which stays in history."""

    __tablename__ = "promises_to_pay"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    amount: Mapped[int]
    promised_date: Mapped[date]
    recorded_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")
    session_id: Mapped[str | None] = mapped_column(String(64))


class ComplaintRow(Base):
    """A complaint with its response due date."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[str | None] = mapped_column(String(32), index=True)
    session_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date]
    response_due: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="open")


class HandoffRow(Base):
    """A request to hand the conversation to a human agent."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="waiting")


class HardshipReviewRow(Base):
    """A hardship review request for the hardship team (not a handoff)."""

    __tablename__ = "hardship_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")


class VerificationAttemptRow(Base):
    """One identity-verification attempt; failures count towards lockouts."""

    __tablename__ = "verification_attempts"
    __table_args__ = (Index("ix_verif_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(String(32))
    success: Mapped[bool]
    at: Mapped[datetime]


class ChatSessionRow(Base):
    """A chat session known to the API."""

    __tablename__ = "chat_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(16), default="web")
    auth_account_id: Mapped[str | None] = mapped_column(String(32))


class MessageRow(Base):
    """A processed debtor message and the answer sent, for idempotent retries."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("session_id", "client_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.session_id"), index=True)
    client_message_id: Mapped[str | None] = mapped_column(String(128))
    turn: Mapped[int]
    created_at: Mapped[datetime]
    response: Mapped[dict[str, Any]]


class AuditEventRow(Base):
    """One append-only audit record: a whole turn, masked."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]]
