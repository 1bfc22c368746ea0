"""Contact history of a debtor: what was sent, what was delivered, when they answered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

EventKind = Literal[
    "outbound",  # a proactive message was sent
    "delivered",  # the provider confirmed delivery
    "undelivered",  # the provider could not deliver (bounce, unknown number)
    "reply",  # the debtor wrote back (any channel, or started a chat)
    "promise_kept",  # a promise to pay was paid on time
    "promise_broken",  # a promise to pay passed unpaid
    "opt_out",  # the debtor asked for no more outbound messages
]


@dataclass(frozen=True)
class ContactEvent:
    """One event of a debtor's contact history (times are timezone-aware)."""

    account_id: str
    kind: EventKind
    at: datetime
    channel: str | None = None


@dataclass(frozen=True)
class ContactStats:
    """A debtor's contact outcomes, summarised for segments, risk and send-time.

    Attributes:
        attempts_60d: outbound messages sent in the last 60 days.
        undelivered_60d: of those, how many the provider could not deliver.
        replies_60d: replies from the debtor in the last 60 days.
        reply_hours: local hours (0-23) of every recorded reply, oldest first.
        promises_kept_12m: promises to pay kept in the last 12 months.
        promises_broken_12m: promises to pay broken in the last 12 months.
        last_reply_at: the latest reply, if any.
    """

    attempts_60d: int = 0
    undelivered_60d: int = 0
    replies_60d: int = 0
    reply_hours: tuple[int, ...] = ()
    promises_kept_12m: int = 0
    promises_broken_12m: int = 0
    last_reply_at: datetime | None = None

    @property
    def reply_rate_60d(self) -> float:
        """Replies per delivered attempt in the last 60 days (0 when nothing was sent)."""
        delivered = self.attempts_60d - self.undelivered_60d
        return min(1.0, self.replies_60d / delivered) if delivered > 0 else 0.0


def summarise(events: Iterable[ContactEvent], now: datetime, timezone: str) -> ContactStats:
    """Summarise one debtor's events as of ``now``, reading hours in their time zone."""
    zone = ZoneInfo(timezone)
    recent, year = now - timedelta(days=60), now - timedelta(days=365)
    counts = {"outbound": 0, "undelivered": 0, "reply": 0, "promise_kept": 0, "promise_broken": 0}
    hours: list[int] = []
    last_reply: datetime | None = None
    for event in sorted(events, key=lambda e: e.at):
        if event.at > now:
            continue
        if event.kind == "reply":
            hours.append(event.at.astimezone(zone).hour)
            last_reply = event.at
        window = year if event.kind.startswith("promise") else recent
        if event.kind in counts and event.at >= window:
            counts[event.kind] += 1
    return ContactStats(
        attempts_60d=counts["outbound"],
        undelivered_60d=counts["undelivered"],
        replies_60d=counts["reply"],
        reply_hours=tuple(hours),
        promises_kept_12m=counts["promise_kept"],
        promises_broken_12m=counts["promise_broken"],
        last_reply_at=last_reply,
    )
