"""The web widget's inbox: outbound messages wait here until the debtor opens the chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from agent.clock import Clock
from agent.outreach.channels.base import ChannelName, Delivery, OutboundMessage
from agent.storage.models import Base, UTCDateTime


class InboxRow(Base):
    """One message for a debtor's widget; the idempotency key is unique."""

    __tablename__ = "outreach_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True)
class InboxItem:
    """A message in a debtor's widget inbox."""

    id: int
    key: str
    account_id: str
    text: str
    created_at: datetime
    read_at: datetime | None = None


class WebInbox:
    """The ``web`` channel: stores each key once; the widget shows what is unread."""

    name: ChannelName = "web"

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        """Wrap a session factory whose database has the ``outreach_inbox`` table."""
        self._factory = factory
        self._clock = clock

    def send(self, message: OutboundMessage) -> Delivery:
        """Put the message in the inbox of ``message.account_id``, once per key."""
        existing = self._find(message.key)
        if existing is not None:
            return Delivery(provider_id=_provider_id(existing), duplicate=True)
        row = InboxRow(
            key=message.key,
            account_id=message.account_id,
            text=message.text,
            created_at=self._clock.now(),
        )
        try:
            with self._factory.begin() as db:
                db.add(row)
                db.flush()
                new_id = row.id
        except IntegrityError:  # a concurrent send of the same key won the race
            existing = self._find(message.key)
            if existing is None:
                raise
            return Delivery(provider_id=_provider_id(existing), duplicate=True)
        return Delivery(provider_id=_provider_id(new_id))

    def unread(self, account_id: str) -> list[InboxItem]:
        """The account's unread messages, oldest first."""
        with self._factory() as db:
            rows = db.scalars(
                select(InboxRow)
                .where(InboxRow.account_id == account_id, InboxRow.read_at.is_(None))
                .order_by(InboxRow.created_at, InboxRow.id)
            ).all()
            return [_item(row) for row in rows]

    def mark_read(self, account_id: str, ids: list[int], at: datetime) -> int:
        """Mark the account's messages ``ids`` read; return how many were unread before.

        Ids of other accounts' messages are ignored.
        """
        if not ids:
            return 0
        with self._factory.begin() as db:
            result = db.execute(
                update(InboxRow)
                .where(
                    InboxRow.account_id == account_id,
                    InboxRow.id.in_(ids),
                    InboxRow.read_at.is_(None),
                )
                .values(read_at=at)
            )
            count: int = result.rowcount  # type: ignore[attr-defined]
            return count

    def _find(self, key: str) -> int | None:
        with self._factory() as db:
            return db.scalar(select(InboxRow.id).where(InboxRow.key == key))


def _provider_id(row_id: int) -> str:
    return f"inbox-{row_id}"


def _item(row: InboxRow) -> InboxItem:
    return InboxItem(
        id=row.id,
        key=row.key,
        account_id=row.account_id,
        text=row.text,
        created_at=row.created_at,
        read_at=row.read_at,
    )
