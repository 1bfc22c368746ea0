"""Engine creation, schema and first-run loading of the demo portfolio."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from agent.outreach.channels import web as _inbox  # noqa: F401  (registers outreach_inbox)
from agent.portfolio import Account, Portfolio
from agent.storage import console as _console  # noqa: F401  (registers the console tables)
from agent.storage import outreach as _outreach  # noqa: F401  (registers the outreach tables)
from agent.storage.models import (
    AccountRow,
    Base,
    CardStatementRow,
    DisputeRow,
    LoanRow,
    PromiseRow,
)


def make_engine(url: str) -> Engine:
    """Create a SQLAlchemy engine; SQLite gets WAL and foreign keys."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_database(engine: Engine, portfolio: Portfolio) -> sessionmaker[Session]:
    """Create the tables and load the demo portfolio when the database is empty."""
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory.begin() as db:
        if db.scalar(select(AccountRow.account_id).limit(1)) is None:
            for account in portfolio.accounts:
                _load_account(db, account, portfolio)
    return factory


def _load_account(db: Session, account: Account, portfolio: Portfolio) -> None:
    fields = account.model_dump(
        mode="python",
        include={
            "account_id",
            "product",
            "holder_name",
            "birth_date",
            "card_last4",
            "loan_last4",
            "city",
            "timezone",
            "credit_limit",
            "dpd",
            "kol",
            "hardship_declared",
            "consent_after_hours",
            "grace_used_last_12m",
            "payment_history_days_late",
        },
    )
    db.add(
        AccountRow(
            **fields,
            last_payment=account.last_payment.model_dump(mode="json"),
            contact=account.contact.model_dump(mode="json"),
            as_of=portfolio.as_of,
        )
    )
    if account.statement is not None:
        db.add(CardStatementRow(account_id=account.account_id, **account.statement.model_dump()))
    if account.loan is not None:
        db.add(LoanRow(account_id=account.account_id, details=account.loan.model_dump(mode="json")))
    if account.dispute is not None:
        db.add(DisputeRow(account_id=account.account_id, **account.dispute.model_dump()))
    if account.promise_to_pay is not None:
        promise = account.promise_to_pay
        db.add(
            PromiseRow(
                account_id=account.account_id,
                amount=promise.amount,
                promised_date=promise.date,
                recorded_at=_midday(promise.recorded),
                status="open",
            )
        )


def _midday(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), ZoneInfo("Asia/Jakarta"))
