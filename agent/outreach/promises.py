"""Settle promises to pay: kept once payments cover them, broken once their day has passed.

A promise counts as kept when the payments received from the moment it was made to the end
of its promised day (the debtor's local day) add up to its amount; it is broken when that
day is over without them. Settling records a ``promise_kept`` or ``promise_broken`` event,
which feeds the segments, the risk score's contact features and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.storage.models import AccountRow, PromiseRow
from agent.storage.outreach import OutreachStore
from agent.storage.payments import PaymentRow


@dataclass(frozen=True)
class Settled:
    """How many open promises a pass marked kept or broken."""

    kept: int = 0
    broken: int = 0


def settle_promises(
    factory: sessionmaker[Session], outreach: OutreachStore, now: datetime
) -> Settled:
    """Mark every open promise that payments cover as kept, and every overdue one broken."""
    settled: list[tuple[PromiseRow, str, datetime]] = []
    with factory.begin() as db:
        query = select(PromiseRow, AccountRow.timezone).join(
            AccountRow, AccountRow.account_id == PromiseRow.account_id
        )
        found = db.execute(query.where(PromiseRow.status == "open")).all()
        for promise, timezone in found:
            day_end = datetime.combine(
                promise.promised_date + timedelta(days=1), time(0), ZoneInfo(timezone)
            )
            paid_at = _covered_at(db, promise, min(now, day_end))
            if paid_at is not None:
                promise.status = "kept"
                settled.append((promise, "promise_kept", paid_at))
            elif now >= day_end:
                promise.status = "broken"
                settled.append((promise, "promise_broken", day_end))
    for promise, kind, at in settled:  # after the commit: one writer at a time on SQLite
        outreach.record_event(
            promise.account_id,
            kind,
            at,
            source="promises",
            event_id=f"promise:{promise.id}:{promise.status}",
            detail={"amount": promise.amount, "promised_date": promise.promised_date.isoformat()},
        )
    kinds = [kind for _, kind, _ in settled]
    return Settled(kinds.count("promise_kept"), kinds.count("promise_broken"))


def _covered_at(db: Session, promise: PromiseRow, until: datetime) -> datetime | None:
    """When payments since the promise first covered its amount (None: not yet)."""
    payments = db.execute(
        select(PaymentRow.paid_at, PaymentRow.amount)
        .where(
            PaymentRow.account_id == promise.account_id,
            PaymentRow.paid_at >= promise.recorded_at,
            PaymentRow.paid_at < until,
        )
        .order_by(PaymentRow.paid_at)
    ).all()
    total = 0
    for paid_at, amount in payments:
        total += amount
        if total >= promise.amount:
            return paid_at
    return None
