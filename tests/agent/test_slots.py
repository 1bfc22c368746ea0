"""Property-based tests for the offline NLU slot parsers."""

from __future__ import annotations

import calendar
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from agent.engines.offline.slots import parse_amount, parse_date, parse_tenor


def rupiah_format(amount: int) -> str:
    """Format an amount the Indonesian way, e.g. ``Rp12.450.000``."""
    return "Rp" + f"{amount:,}".replace(",", ".")


@given(st.integers(min_value=1, max_value=10_000_000).map(lambda k: k * 1000))
def test_parse_amount_roundtrips_rupiah_format(amount: int) -> None:
    assert parse_amount(rupiah_format(amount)) == amount


@given(st.integers(min_value=1, max_value=10_000_000).map(lambda k: k * 1000))
def test_parse_amount_roundtrips_in_a_sentence(amount: int) -> None:
    assert parse_amount(f"saya transfer {rupiah_format(amount)}, ya kak") == amount


@given(
    st.integers(min_value=1, max_value=31),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
)
def test_parse_date_day_of_month_is_never_past(day: int, today: date) -> None:
    parsed = parse_date(f"tgl {day}", today)
    assert parsed is not None
    assert parsed >= today
    assert parsed.day == day
    assert (parsed - today).days <= 62


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_parse_date_relative_words_are_never_past(today: date) -> None:
    for text in ("besok", "lusa", "minggu depan", "akhir bulan", "awal bulan depan", "jumat"):
        parsed = parse_date(text, today)
        assert parsed is not None and parsed >= today
    last_day = calendar.monthrange(today.year, today.month)[1]
    assert parse_date("akhir bulan", today) == today.replace(day=last_day)


@given(st.integers(min_value=1, max_value=60))
def test_parse_tenor_months(months: int) -> None:
    assert parse_tenor(f"cicil {months} bulan") == months
    assert parse_tenor(f"cicil {months}x") == months
