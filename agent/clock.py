"""Clocks: the real one, and a pinned one for demos and tests (``SANTUN_NOW``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Jakarta"


class Clock(Protocol):
    """Something that tells the time."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class FixedClock:
    """A clock pinned to one instant."""

    def __init__(self, at: datetime) -> None:
        """Pin the clock; a naive datetime is read as Western Indonesian Time."""
        self._at = at if at.tzinfo else at.replace(tzinfo=ZoneInfo(DEFAULT_TZ))

    def now(self) -> datetime:
        """Return the pinned instant."""
        return self._at


def clock_for(pinned: datetime | None) -> Clock:
    """Return a fixed clock when a time is pinned, else the system clock."""
    return FixedClock(pinned) if pinned is not None else SystemClock()


def local_now(clock: Clock, timezone: str | None) -> datetime:
    """Return the clock's time in the debtor's timezone (WIB when unknown)."""
    return clock.now().astimezone(ZoneInfo(timezone or DEFAULT_TZ))


def local_today(clock: Clock, timezone: str | None) -> date:
    """Return today's date in the debtor's timezone (WIB when unknown)."""
    return local_now(clock, timezone).date()
