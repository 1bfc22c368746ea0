"""The contact window and the frequency caps of proactive messages (the policy's rules).

Every time here is local to the debtor (``account.timezone``): the window is Mon-Sat
08:00-20:00 (06:00-22:00 with the debtor's prior consent), never Sunday or a national
holiday, at most ``max_outbound_per_day`` messages per local day and
``max_outbound_per_week`` in any rolling seven days, all channels together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from agent.policy import ContactWindow

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEK = timedelta(days=7)


@lru_cache(maxsize=16)
def _holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("ID", years=year).items())


def holiday_name(day: date) -> str | None:
    """The national holiday on a date (``holidays.Indonesia``), if any."""
    return _holidays(day.year).get(day)


@dataclass(frozen=True)
class ContactPolicy:
    """When and how often a debtor may be contacted first."""

    days: frozenset[int] = frozenset(range(6))
    start: time = time(8, 0)
    end: time = time(20, 0)
    consent_start: time = time(6, 0)
    consent_end: time = time(22, 0)
    per_day: int = 2
    per_week: int = 6

    @classmethod
    def from_policy(cls, window: ContactWindow) -> ContactPolicy:
        """Read the policy file's ``contact_window``."""
        return cls(
            days=frozenset(_DAY_NAMES.index(day) for day in window.days),
            start=window.start,
            end=window.end,
            consent_start=window.consent_after_hours.start,
            consent_end=window.consent_after_hours.end,
            per_day=window.max_outbound_per_day,
            per_week=window.max_outbound_per_week,
        )

    def hours(self, consent: bool) -> tuple[time, time]:
        """The allowed hours of a day: wider with the debtor's prior consent."""
        return (self.consent_start, self.consent_end) if consent else (self.start, self.end)

    def day_refusal(self, day: date) -> str | None:
        """Why no message may go out on a local date, or None when the day is allowed."""
        if day.weekday() not in self.days:
            return day.strftime("%A") + " (no outbound contact)"
        name = holiday_name(day)
        return f"national holiday ({name})" if name else None

    def refusal(self, local: datetime, consent: bool) -> str | None:
        """Why a local moment is outside the window, or None when it is inside."""
        reason = self.day_refusal(local.date())
        if reason:
            return reason
        start, end = self.hours(consent)
        if local.time() < start:
            return f"before {start:%H:%M} local time"
        if local.time() >= end:
            return f"from {end:%H:%M} local time"
        return None

    def next_slot(self, local: datetime, consent: bool) -> datetime:
        """The earliest allowed moment at or after a local time (same time zone)."""
        start, end = self.hours(consent)
        moment = local
        for _ in range(400):  # a year of days; the policy allows at least one weekday
            if self.day_refusal(moment.date()) is None:
                if moment.time() < start:
                    return datetime.combine(moment.date(), start, moment.tzinfo)
                if moment.time() < end:
                    return moment
            moment = datetime.combine(moment.date() + timedelta(days=1), start, moment.tzinfo)
        raise ValueError("the contact window allows no day at all")


class Caps:
    """Counts a debtor's proactive messages against the daily and weekly caps."""

    def __init__(self, per_day: int, per_week: int, sent: Iterable[datetime] = ()) -> None:
        """Start from the messages already sent (aware datetimes, any zone)."""
        self.per_day, self.per_week = per_day, per_week
        self._sent = sorted(sent)

    def add(self, moment: datetime) -> None:
        """Count one more message."""
        self._sent.append(moment)
        self._sent.sort()

    def counts(self, moment: datetime) -> tuple[int, int]:
        """Messages on the same local day as ``moment`` and in the seven days before it."""
        day = moment.date()
        today = sum(1 for s in self._sent if s.astimezone(moment.tzinfo).date() == day)
        week = sum(1 for s in self._sent if moment - _WEEK < s <= moment)
        return today, week

    def refusal(self, moment: datetime) -> str | None:
        """Why one more message at ``moment`` would break a cap, or None."""
        today, week = self.counts(moment)
        if today >= self.per_day:
            return f"daily cap of {self.per_day} reached"
        if week >= self.per_week:
            return f"weekly cap of {self.per_week} reached"
        return None

    def next_allowed(self, moment: datetime, policy: ContactPolicy, consent: bool) -> datetime:
        """The earliest moment at or after ``moment`` inside the window and the caps."""
        moment = policy.next_slot(moment, consent)
        for _ in range(60):
            today, week = self.counts(moment)
            if today < self.per_day and week < self.per_week:
                return moment
            if week >= self.per_week:
                window = [s for s in self._sent if moment - _WEEK < s <= moment]
                later = window[week - self.per_week] + _WEEK + timedelta(seconds=1)
                moment = max(moment, later.astimezone(moment.tzinfo))
            else:
                start = policy.hours(consent)[0]
                moment = datetime.combine(moment.date() + timedelta(days=1), start, moment.tzinfo)
            moment = policy.next_slot(moment, consent)
        raise ValueError("no slot within the caps in 60 tries")
