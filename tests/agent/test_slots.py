"""Example-based and property-based tests for the offline NLU slot parsers."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.engines.offline.slots import (
    parse_amount,
    parse_birth_date,
    parse_choice,
    parse_date,
    parse_last4,
    parse_tenor,
)

TODAY = date(2026, 11, 23)  # a Monday, the datasets' reference date


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


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1,5 juta", 1_500_000),
        ("1.5jt", 1_500_000),
        ("Rp750.000", 750_000),
        ("Rp 750.000,-", 750_000),
        ("500rb", 500_000),
        ("500 ribu", 500_000),
        ("2 juta", 2_000_000),
        ("dua juta", 2_000_000),
        ("lima ratus ribu", 500_000),
        ("1jt 250rb", 1_250_000),
        ("3 juta rupiah", 3_000_000),
        ("Rp1.250.000,00", 1_250_000),
        ("udh transfer 1,2jt barusan", 1_200_000),
    ],
)
def test_parse_amount(text: str, amount: int) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    "text", ["4 digit terakhir 8817", "lahir 1988", "tgl 25", "diskon 40%", "9054"]
)
def test_parse_amount_negatives(text: str) -> None:
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tgl 25", date(2026, 11, 25)),
        ("tgl 23", date(2026, 11, 23)),
        ("tgl 10", date(2026, 12, 10)),
        ("besok", date(2026, 11, 24)),
        ("lusa", date(2026, 11, 25)),
        ("hari ini", date(2026, 11, 23)),
        ("akhir bulan", date(2026, 11, 30)),
        ("awal bulan depan", date(2026, 12, 1)),
        ("minggu depan", date(2026, 11, 30)),
        ("senin", date(2026, 11, 23)),
        ("jumat", date(2026, 11, 27)),
        ("jum'at ini", date(2026, 11, 27)),
        ("25 November", date(2026, 11, 25)),
        ("25/11", date(2026, 11, 25)),
        ("3 Desember", date(2026, 12, 3)),
        ("15/12", date(2026, 12, 15)),
        ("20 November", date(2027, 11, 20)),
        ("setelah gajian tanggal 1", date(2026, 12, 1)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["bayar bulan ini", "tanggal lahir", "tgl 32", "sisanya nyusul"])
def test_parse_date_negatives(text: str) -> None:
    assert parse_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23 November 1979", date(1979, 11, 23)),
        ("23-11-1979", date(1979, 11, 23)),
        ("23/11/79", date(1979, 11, 23)),
        ("14 mar 88", date(1988, 3, 14)),
        ("lahir 30 jan 85", date(1985, 1, 30)),
        ("lahir 1/2/05", date(2005, 2, 1)),
    ],
)
def test_parse_birth_date(text: str, expected: date) -> None:
    assert parse_birth_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["tgl 25/11", "3 Desember", "31-02-1980", "lahir di Bandung"])
def test_parse_birth_date_negatives(text: str) -> None:
    assert parse_birth_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 dgt trakhir 8817", "8817"),
        ("9054 lahir 23-11-1979", "9054"),
        ("lahir 30 jan 85, kartu ujungnya 1176", "1176"),
        ("7740 / 04-04-1987", "7740"),
        ("Nomor pinjaman saya berakhiran 2049.", "2049"),
    ],
)
def test_parse_last4(text: str, expected: str) -> None:
    assert parse_last4(text) == expected


@pytest.mark.parametrize(
    "text",
    ["lahir 14 Maret 1988", "23-11-1979", "tahun 2025", "Rp1.250", "bayar 2500 ribu", "12345"],
)
def test_parse_last4_negatives(text: str) -> None:
    assert parse_last4(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6 bulan", 6),
        ("cicil 6x", 6),
        ("12 kali", 12),
        ("setahun", 12),
        ("2 tahun", 24),
        ("18 bln", 18),
        ("tenor 36", 36),
        ("tiga bulan saja", 3),
    ],
)
def test_parse_tenor(text: str, expected: int) -> None:
    assert parse_tenor(text) == expected


@pytest.mark.parametrize("text", ["bulan ini", "bayar bulan depan", "3 bulan lalu", "cicilan"])
def test_parse_tenor_negatives(text: str) -> None:
    assert parse_tenor(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yang pertama", (1, None)),
        ("opsi 1", (1, None)),
        ("nomor 2", (2, None)),
        ("yg kedua aja", (2, None)),
        ("yang terakhir", (-1, None)),
        ("oke yg terakhir aja, pelunasan sekaligus", (-1, "pelunasan_diskon")),
        ("saya pilih restrukturisasi", (None, "restrukturisasi")),
        ("ambil diskonnya", (None, "pelunasan_diskon")),
        ("cicil 12x", (None, "cicilan_tetap")),
        ("mau ditunda dulu", (None, "penundaan")),
        ("bayar penuh aja", (None, "bayar_penuh")),
        ("bayar minimum saja", (None, "bayar_minimum")),
        ("tenornya diperpanjang", (None, "perpanjangan_tenor")),
        ("halo", (None, None)),
    ],
)
def test_parse_choice(text: str, expected: tuple[int | None, str | None]) -> None:
    assert parse_choice(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bayar tanggal lima desember", date(2026, 12, 5)),
        ("dua puluh lima november saya transfer", date(2026, 11, 25)),
    ],
)
def test_parse_date_number_words(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


def test_parse_birth_date_year_first() -> None:
    assert parse_birth_date("lahir thn 1968 tgl 9 desember", TODAY) == date(1968, 12, 9)
