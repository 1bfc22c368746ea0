"""Outreach tables: the outbox, contact events, opt-outs and channel threads."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from agent.outreach.contact import ContactEvent
from agent.storage.models import AccountRow, Base, UTCDateTime

DEMO_HISTORY_PATH = Path(__file__).parent.parent / "data" / "outreach" / "contact_history.json"


class OutboxRow(Base):
    """One proactive message: planned, then sent once (its key is its identity)."""

    __tablename__ = "outreach_messages"
    __table_args__ = (Index("ix_outreach_due", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(32))
    family: Mapped[str] = mapped_column(String(32))
    segment: Mapped[str] = mapped_column(String(32))
    risk: Mapped[float]
    band: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    experiment_id: Mapped[str | None] = mapped_column(String(64))
    arm_id: Mapped[str | None] = mapped_column(String(64))
    offer_human: Mapped[bool]
    timezone: Mapped[str] = mapped_column(String(40))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    text: Mapped[str | None] = mapped_column(Text)
    template_id: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(160))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OutreachEventRow(Base):
    """A contact event: sent, delivered, undelivered, reply, refused, opt-out, promise."""

    __tablename__ = "outreach_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    key: Mapped[str | None] = mapped_column(String(160))
    event_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any] | None]


class ContactPreferenceRow(Base):
    """A debtor's opt-out, which overrides the portfolio's flag on every channel."""

    __tablename__ = "contact_preferences"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    opt_out: Mapped[bool]
    source: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutreachThreadRow(Base):
    """The chat session that a debtor's replies on one channel continue."""

    __tablename__ = "outreach_threads"
    __table_args__ = (UniqueConstraint("account_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(200))
    session_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Refused:
    """Why a due message was not sent now, and when it will be tried again."""

    reason: str
    retry_at: datetime | None


class OutreachStore:
    """Reads and writes the outreach tables; every write is one transaction."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        """Wrap a session factory bound to an initialised database."""
        self._factory = factory

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._factory.begin() as db:
            yield db

    # -- contact history ----------------------------------------------------------

    def load_demo_history(self, path: Path = DEMO_HISTORY_PATH) -> int:
        """Load the fictional demo contact history once (when no demo event exists)."""
        with self._tx() as db:
            if db.scalar(select(OutreachEventRow.id).where(OutreachEventRow.source == "demo")):
                return 0
            known = set(db.scalars(select(AccountRow.account_id)))
            events = json.loads(path.read_text(encoding="utf-8"))["events"]
            rows = [
                OutreachEventRow(
                    account_id=e["account_id"],
                    kind=e["kind"],
                    channel=e.get("channel"),
                    at=datetime.fromisoformat(e["at"]),
                    source="demo",
                )
                for e in events
                if e["account_id"] in known
            ]
            db.add_all(rows)
            return len(rows)

    def record_event(
        self,
        account_id: str,
        kind: str,
        at: datetime,
        *,
        source: str,
        channel: str | None = None,
        key: str | None = None,
        event_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        """Record one event; False when an event with the same ``event_id`` exists."""
        row = OutreachEventRow(
            account_id=account_id,
            kind=kind,
            at=at,
            source=source,
            channel=channel,
            key=key,
            event_id=event_id,
            detail=detail,
        )
        try:
            with self._tx() as db:
                db.add(row)
        except IntegrityError:
            return False
        return True

    def contact_events(self, account_ids: Iterable[str] | None = None) -> list[ContactEvent]:
        """Contact events (not refusals) of some or all accounts, oldest first."""
        query = select(OutreachEventRow).where(OutreachEventRow.kind != "refused")
        if account_ids is not None:
            query = query.where(OutreachEventRow.account_id.in_(list(account_ids)))
        with self._factory() as db:
            rows = db.scalars(query.order_by(OutreachEventRow.at)).all()
            return [ContactEvent(r.account_id, r.kind, r.at, r.channel) for r in rows]  # type: ignore[arg-type]

    def events(self, kinds: Iterable[str], since: datetime | None = None) -> list[OutreachEventRow]:
        """Events of some kinds, oldest first (for reports and the dashboard)."""
        query = select(OutreachEventRow).where(OutreachEventRow.kind.in_(list(kinds)))
        if since is not None:
            query = query.where(OutreachEventRow.at >= since)
        with self._factory() as db:
            return list(db.scalars(query.order_by(OutreachEventRow.at)))

    # -- opt-out -------------------------------------------------------------------

    def opt_outs(self) -> dict[str, bool]:
        """Every recorded opt-out choice, by account."""
        with self._factory() as db:
            return {r.account_id: r.opt_out for r in db.scalars(select(ContactPreferenceRow))}

    def opted_out(self, account_id: str) -> bool | None:
        """The debtor's recorded opt-out choice, or None when they never made one."""
        with self._factory() as db:
            row = db.get(ContactPreferenceRow, account_id)
            return row.opt_out if row else None

    def set_opt_out(self, account_id: str, opt_out: bool, at: datetime, source: str) -> int:
        """Record the debtor's choice and cancel every queued message; returns how many."""
        with self._tx() as db:
            row = db.get(ContactPreferenceRow, account_id)
            if row is None:
                db.add(
                    ContactPreferenceRow(
                        account_id=account_id, opt_out=opt_out, source=source, updated_at=at
                    )
                )
            else:
                row.opt_out, row.source, row.updated_at = opt_out, source, at
            if not opt_out:
                return 0
            result = db.execute(
                update(OutboxRow)
                .where(OutboxRow.account_id == account_id, OutboxRow.status == "queued")
                .values(status="cancelled", last_error="debtor opted out", updated_at=at)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # -- outbox --------------------------------------------------------------------

    def settled_keys(self, account_ids: Iterable[str]) -> set[str]:
        """Keys of outbox messages past planning (sent, sending, blocked, failed, cancelled).

        Queued ones are planned again under the same key, so a plan still shows them.
        """
        with self._factory() as db:
            query = select(OutboxRow.key).where(
                OutboxRow.account_id.in_(list(account_ids)), OutboxRow.status != "queued"
            )
            return set(db.scalars(query))

    def sent_times(
        self, account_id: str, since: datetime, exclude: int | None = None
    ) -> list[datetime]:
        """When proactive messages to a debtor went out (or may have: left mid-send)."""
        with self._factory() as db:
            query = select(OutboxRow.sent_at, OutboxRow.updated_at).where(
                OutboxRow.account_id == account_id,
                OutboxRow.status.in_(["sent", "sending"]),
                OutboxRow.updated_at >= since,
                OutboxRow.id != (exclude if exclude is not None else -1),
            )
            return [sent or updated for sent, updated in db.execute(query)]

    def enqueue(self, rows: Iterable[OutboxRow]) -> int:
        """Put planned messages in the outbox; a key already there is left as it is."""
        added = 0
        for row in rows:
            try:
                with self._tx() as db:
                    if db.scalar(select(OutboxRow.id).where(OutboxRow.key == row.key)) is None:
                        db.add(row)
                        added += 1
            except IntegrityError:  # another sender enqueued it in between
                continue
        return added

    def due(self, now: datetime, limit: int = 500) -> list[OutboxRow]:
        """Messages due now: queued ones past their time, and any left mid-send by a crash."""
        with self._factory() as db:
            query = (
                select(OutboxRow)
                .where(
                    ((OutboxRow.status == "queued") & (OutboxRow.send_at <= now))
                    | (OutboxRow.status == "sending")
                )
                .order_by(OutboxRow.send_at, OutboxRow.id)
                .limit(limit)
            )
            return list(db.scalars(query))

    def mark_sent(self, row: OutboxRow, provider_id: str, at: datetime) -> None:
        """Mark a message sent and record the outbound event, in one transaction."""
        with self._tx() as db:
            db.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row.id)
                .values(status="sent", provider_id=provider_id, sent_at=at, updated_at=at)
            )
            db.add(
                OutreachEventRow(
                    account_id=row.account_id,
                    kind="outbound",
                    channel=row.channel,
                    at=at,
                    key=row.key,
                    event_id=f"outbound:{row.key}",
                    source="sender",
                )
            )

    def find_message(
        self, key: str | None = None, provider_id: str | None = None
    ) -> OutboxRow | None:
        """The outbox row with an idempotency key or a provider message id."""
        if key is None and provider_id is None:
            return None
        query = select(OutboxRow).where(
            OutboxRow.key == key if key is not None else OutboxRow.provider_id == provider_id
        )
        with self._factory() as db:
            return db.scalar(query)

    def update_message(self, message_id: int, **values: Any) -> None:
        """Change an outbox row (status, attempts, text, provider id, times)."""
        with self._tx() as db:
            db.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(**values))

    def messages(self, since: datetime | None = None) -> list[OutboxRow]:
        """Outbox rows, newest first (for the console)."""
        query = select(OutboxRow).order_by(OutboxRow.send_at.desc())
        if since is not None:
            query = query.where(OutboxRow.send_at >= since)
        with self._factory() as db:
            return list(db.scalars(query))

    def status_counts(self) -> dict[str, int]:
        """How many outbox rows are in each status."""
        with self._factory() as db:
            query = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
            return {status: int(count) for status, count in db.execute(query)}

    # -- channel threads -------------------------------------------------------------

    def thread(self, account_id: str, channel: str) -> str | None:
        """The chat session a debtor's replies on a channel continue, if any."""
        with self._factory() as db:
            query = select(OutreachThreadRow.session_id).where(
                OutreachThreadRow.account_id == account_id, OutreachThreadRow.channel == channel
            )
            return db.scalar(query)

    def set_thread(
        self, account_id: str, channel: str, address: str, session_id: str, at: datetime
    ) -> None:
        """Point a debtor's channel at a chat session (a later session replaces it)."""
        with self._tx() as db:
            query = select(OutreachThreadRow).where(
                OutreachThreadRow.account_id == account_id, OutreachThreadRow.channel == channel
            )
            row = db.scalar(query)
            if row is None:
                db.add(
                    OutreachThreadRow(
                        account_id=account_id,
                        channel=channel,
                        address=address,
                        session_id=session_id,
                        created_at=at,
                    )
                )
            else:
                row.session_id, row.address = session_id, address

    def contacts(self) -> dict[str, dict[str, Any]]:
        """Each account's contact data (phone, e-mail, consent), for matching replies."""
        with self._factory() as db:
            rows = db.execute(select(AccountRow.account_id, AccountRow.contact))
            return {row.account_id: row.contact for row in rows}
