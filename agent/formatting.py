"""How money and dates are shown to debtors: ``Rp12.450.000`` and ``28 November 2026``."""

from __future__ import annotations

from datetime import date

MONTHS_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
WEEKDAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def rupiah(amount: int) -> str:
    """Format an integer amount of rupiah, e.g. ``Rp12.450.000``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def tanggal(day: date) -> str:
    """Format a date in Indonesian, e.g. ``28 November 2026``."""
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


def hari_tanggal(day: date) -> str:
    """Format a date with its weekday, e.g. ``Senin, 7 Desember 2026``."""
    return f"{WEEKDAYS_ID[day.weekday()]}, {tanggal(day)}"
