"""Working days in Indonesia: Monday to Friday that are not national holidays."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=16)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("ID", years=[year, year + 1])


def is_national_holiday(day: date) -> bool:
    """Tell whether a date is an Indonesian national holiday."""
    return day in _holidays(day.year)


def is_working_day(day: date) -> bool:
    """Tell whether a date is a working day (Mon-Fri, not a national holiday)."""
    return day.weekday() < 5 and not is_national_holiday(day)


def add_working_days(start: date, count: int) -> date:
    """Return the ``count``-th working day after ``start`` (``start`` itself not counted)."""
    day, left = start, count
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
