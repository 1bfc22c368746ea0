"""Deterministic slot parsers: amounts, payment dates, birth dates, last-4 digits, tenor, plans."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from fractions import Fraction

from agent.engines.offline.normalise import normalise

__all__ = [
    "amount_from_normalised",
    "birth_date_from_normalised",
    "last4_from_normalised",
    "parse_amount",
    "parse_birth_date",
    "parse_choice",
    "parse_date",
    "parse_last4",
    "parse_tenor",
]

_MONTH_NAMES = (
    "januari jan|februari feb pebruari peb|maret mar|april apr|mei may|juni jun|juli jul"
    "|agustus agu agt ags aug|september sep sept|oktober okt oct|november nov nop|desember des dec"
)
_MONTHS = {n: i for i, names in enumerate(_MONTH_NAMES.split("|"), 1) for n in names.split()}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAYS = {"senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5, "minggu": 6}
_UNITS = {"miliar": 10**9, "milyar": 10**9, "juta": 10**6, "ribu": 10**3}
_DIGIT_WORDS = {
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5,
    "enam": 6, "tujuh": 7, "delapan": 8, "sembilan": 9,
}  # fmt: skip
_NUM_WORD = (
    r"(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan"
    r"|sepuluh|sebelas|seratus|belas|puluh|ratus|setengah)"
)
_NUM = r"\d+(?:[.,]\d+)*"
_B, _E = r"(?<![\d.,/:\-])", r"(?![\d/:\-]|[.,]\d)"
_AMOUNT_ATOMS = [
    re.compile(rf"(?:rp\s*)?{_B}({_NUM})\s*(miliar|milyar|juta|ribu)\b"),
    re.compile(rf"rp\s*({_NUM}){_E}()"),
    re.compile(rf"{_B}(\d{{1,3}}(?:\.\d{{3}})+(?:,\d{{1,2}})?){_E}()"),
    re.compile(rf"{_B}([1-9]\d{{4,10}}){_E}()"),
    re.compile(rf"\b((?:{_NUM_WORD}\s+)*{_NUM_WORD})\s+(miliar|milyar|juta|ribu)\b"),
    re.compile(r"\bse(juta|ribu|miliar)()\b"),
]
_AMOUNT_GAP = re.compile(r"\s*(?:dan\s+|lebih\s+)?")
_NUMERIC_DATE = re.compile(rf"{_B}(\d{{1,2}})[/\-.](\d{{1,2}})(?:[/\-.](\d{{4}}|\d{{2}}))?{_E}")
_NAMED_DATE = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\b(?:\s+(\d{{4}}|\d{{2}})\b)?")
_YEAR_FIRST = re.compile(rf"\b(\d{{4}})\s+(?:tanggal\s+)?(\d{{1,2}})\s+({_MONTH_RE})\b")
_WORD_DAY = re.compile(rf"\b((?:{_NUM_WORD}\s+)*{_NUM_WORD})\s+(?=(?:{_MONTH_RE})\b)")
_DAY_OF_MONTH = re.compile(rf"\btanggal\s+(\d{{1,2}})\b(?!\s*(?:[/\-.]\d|{_MONTH_RE}\b))")
_MOVED_TO = re.compile(r"\b(?:ke|menjadi|jadi)\s+(?:tanggal\s+|hari\s+)?$")
_LAST4 = re.compile(
    r"(?<![\d.,/:\-])\d{4}(?![\d.,/:\-%]|\s*(?:ribu|juta|rupiah|kali|bulan|tahun|%))"
)
_NOT_LAST4_BEFORE = re.compile(r"(?:tahun\w*|lahir\w*|sejak|jam|pukul|rp)\s*$")
_TENOR = re.compile(
    rf"\b(\d{{1,3}}|{_NUM_WORD}(?:\s+{_NUM_WORD})?)\s*(bulan|kali|tahun)\b"
    r"(?!\s+(?:lalu|yang lalu|kemarin|terakhir|sebelumnya))"
)
_TENOR_WORDS = (("setengah tahun", 6), ("setahun", 12), ("tenor", 0))
_ORDINALS = {"pertama": 1, "kesatu": 1, "satu": 1, "kedua": 2, "dua": 2, "ketiga": 3, "tiga": 3}
_ORDINALS |= {"keempat": 4, "empat": 4, "kelima": 5, "lima": 5, "terakhir": -1}
_ORDINAL_RE = re.compile(
    r"\b(?:yang|opsi|pilihan|nomor|paket|program|skema|option)\s+(?:yang\s+)?"
    r"(pertama|kesatu|kedua|ketiga|keempat|kelima|terakhir|[1-9]\b|satu\b|dua\b|tiga\b)"
)
_PLANS: list[tuple[str, re.Pattern[str]]] = [
    ("restrukturisasi", re.compile(r"\brestruktur")),
    ("pelunasan_diskon", re.compile(r"\b(?:diskon|potongan|pelunasan|lunas sekaligus)")),
    ("perpanjangan_tenor", re.compile(r"\b(?:di)?(?:per)?panjang|\bperpanjangan")),
    ("penundaan", re.compile(r"\b(?:di|pe)?n?tunda|\bpenundaan\b")),
    ("bayar_minimum", re.compile(r"\bminim(?:um|al)")),
    ("bayar_tunggakan", re.compile(r"\bbayar\w* (?:\w+ )?tunggakan\w* (?:saja|dulu)")),
    ("bayar_penuh", re.compile(r"\b(?:bayar|pembayaran) (?:penuh|full|lunas)|\blunas\b")),
    ("cicilan_tetap", re.compile(r"\w*cicil|\bangsur")),
]


def _to_fraction(raw: str, has_unit: bool) -> Fraction:
    """Read "750.000", "1,5", "1.5" or "750.000,00" as a number."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", raw):
        return Fraction(raw.split(",")[0].replace(".", ""))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
        return Fraction(raw.replace(",", ""))
    if has_unit and re.fullmatch(r"\d+[.,]\d{1,2}", raw):
        return Fraction(raw.replace(",", "."))
    return Fraction(re.sub(r"[.,]\d{1,2}$", "", raw).replace(".", "").replace(",", ""))


def _words_value(words: str) -> Fraction:
    """Read Indonesian number words ("dua ratus lima puluh", "satu setengah")."""
    acc, cur = Fraction(0), Fraction(0)
    for word in words.split():
        if word in _DIGIT_WORDS:
            cur += _DIGIT_WORDS[word]
        elif word in ("sepuluh", "sebelas", "seratus"):
            acc += {"sepuluh": 10, "sebelas": 11, "seratus": 100}[word]
        elif word in ("puluh", "ratus", "belas"):
            acc += cur + 10 if word == "belas" else cur * (10 if word == "puluh" else 100)
            cur = Fraction(0)
        elif word == "setengah":
            cur += Fraction(1, 2)
    return acc + cur


def _amount_atoms(text: str) -> list[tuple[int, int, Fraction, int]]:
    """Find non-overlapping amount atoms as (start, end, value, multiplier)."""
    atoms: list[tuple[int, int, Fraction, int]] = []
    for index, pattern in enumerate(_AMOUNT_ATOMS):
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end, _, _ in atoms):
                continue
            unit = _UNITS.get(m.group(2), 1)
            if index == 5:
                unit, value = _UNITS[m.group(1)], Fraction(1)
            elif index == 4:
                value = _words_value(m.group(1))
            else:
                value = _to_fraction(m.group(1), unit > 1)
            atoms.append((m.start(), m.end(), value, unit))
    return sorted(atoms)


def parse_amount(text: str) -> int | None:
    """Parse a rupiah amount ("1,5 juta", "Rp750.000", "500rb", "dua juta", "1jt 250rb").

    Args:
        text: Raw or normalised message text.

    Returns:
        The amount in rupiah, or None when no amount is present.
    """
    return amount_from_normalised(normalise(text))


def amount_from_normalised(norm: str) -> int | None:
    """Same as ``parse_amount`` for text that is already normalised."""
    atoms = _amount_atoms(norm)
    if not atoms:
        return None
    _, end, value, unit = atoms[0]
    total = value * unit
    for start, next_end, next_value, next_unit in atoms[1:]:
        gap = norm[end:start]
        if next_unit >= unit or not _AMOUNT_GAP.fullmatch(gap):
            break
        total, end, unit = total + next_value * next_unit, next_end, next_unit
    return int(total) if total > 0 else None


def _safe_date(year: int, month: int, day: int) -> date | None:
    """Build a date or return None when invalid."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_day_of_month(day: int, today: date) -> date | None:
    """Return the first date on/after today whose day-of-month is ``day``."""
    year, month = today.year, today.month
    for _ in range(13):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _day_month(day: int, month: int, year: int | None, today: date) -> date | None:
    """Resolve a day/month (optionally year) to the next such date on/after today."""
    if year is not None:
        return _safe_date(year + 2000 if year < 100 else year, month, day)
    candidate = _safe_date(today.year, month, day)
    if candidate is not None and candidate < today:
        candidate = _safe_date(today.year + 1, month, day)
    return candidate


def _month_edge(today: date, months_ahead: int, last: bool) -> date:
    """First or last day of the month ``months_ahead`` after today's month."""
    year, month = divmod(today.month - 1 + months_ahead, 12)
    year, month = today.year + year, month + 1
    return date(year, month, calendar.monthrange(year, month)[1] if last else 1)


def _relative_dates(text: str, today: date) -> list[tuple[int, date]]:
    """Relative expressions: hari ini, besok, lusa, minggu depan, akhir bulan, weekdays."""
    table: list[tuple[str, date]] = [
        (r"\bhari ini\b|\bsekarang\b", today),
        (r"\bbesok\b", today + timedelta(days=1)),
        (r"\blusa\b", today + timedelta(days=2)),
        (r"\b(?:minggu|pekan) depan\b", today + timedelta(days=7)),
        (r"\bakhir bulan depan\b", _month_edge(today, 1, last=True)),
        (r"\bakhir bulan\b", _month_edge(today, 0, last=True)),
        (r"\b(?:awal )?bulan depan\b", _month_edge(today, 1, last=False)),
    ]
    found = [(m.start(), d) for rx, d in table for m in re.finditer(rx, text)]
    for m in re.finditer(r"\b(senin|selasa|rabu|kamis|jumat|sabtu|hari minggu)\b", text):
        ahead = (_WEEKDAYS[m.group(1).split()[-1]] - today.weekday()) % 7
        found.append((m.start(), today + timedelta(days=ahead)))
    for m in re.finditer(r"\b(\d{1,2})\s+(hari|minggu)\s+lagi\b", text):
        found.append(
            (m.start(), today + timedelta(days=int(m.group(1)) * (1 if m[2] == "hari" else 7)))
        )
    return found


def parse_date(text: str, today: date) -> date | None:
    """Parse a (future) payment date such as "tgl 25", "besok", "jumat", "3 Desember", "15/12".

    Args:
        text: Raw or normalised message text.
        today: The reference date.

    Returns:
        The earliest-mentioned date in the text, or None.
    """
    norm = _WORD_DAY.sub(lambda m: f"{int(_words_value(m.group(1)))} ", normalise(text))
    found: list[tuple[int, date | None]] = list(_relative_dates(norm, today))
    for m in _NAMED_DATE.finditer(norm):
        year = int(m.group(3)) if m.group(3) else None
        found.append((m.start(), _day_month(int(m.group(1)), _MONTHS[m.group(2)], year, today)))
    for m in _NUMERIC_DATE.finditer(norm):
        year = int(m.group(3)) if m.group(3) else None
        found.append((m.start(), _day_month(int(m.group(1)), int(m.group(2)), year, today)))
    for m in _DAY_OF_MONTH.finditer(norm):
        found.append((m.start(), _next_day_of_month(int(m.group(1)), today)))
    valid = sorted((pos, d) for pos, d in found if d is not None)
    moved_to = [d for pos, d in valid if _MOVED_TO.search(norm[:pos])]
    if moved_to:  # "tgl 25 ... mundur ke tgl 30": the new date is the one meant
        return moved_to[0]
    return valid[0][1] if valid else None


def _birth_year(raw: str, today: date) -> int:
    """Expand a two-digit birth year: 19xx when above the current two-digit year, else 20xx."""
    year = int(raw)
    if len(raw) == 4:
        return year
    return 1900 + year if year > today.year % 100 else 2000 + year


def _birth_dates(norm: str, today: date) -> list[tuple[int, int, date]]:
    """All plausible birth dates (with a year) as (start, end, date)."""
    found: list[tuple[int, int, date]] = []
    for pattern in (_NUMERIC_DATE, _NAMED_DATE):
        for m in pattern.finditer(norm):
            if not m.group(3):
                continue
            month = _MONTHS.get(m.group(2)) or int(m.group(2))
            born = _safe_date(_birth_year(m.group(3), today), month, int(m.group(1)))
            if born is not None and date(1900, 1, 1) <= born <= today:
                found.append((m.start(), m.end(), born))
    for m in _YEAR_FIRST.finditer(norm):
        born = _safe_date(int(m.group(1)), _MONTHS[m.group(3)], int(m.group(2)))
        if born is not None and date(1900, 1, 1) <= born <= today:
            found.append((m.start(), m.end(), born))
    return sorted(found)


def parse_birth_date(text: str, today: date | None = None) -> date | None:
    """Parse a birth date with a year ("23 November 1979", "23/11/79", "lahir 30 jan 85").

    Args:
        text: Raw or normalised message text.
        today: Reference date for two-digit years (defaults to the system date).

    Returns:
        The first plausible birth date, or None.
    """
    return birth_date_from_normalised(normalise(text), today or date.today())


def birth_date_from_normalised(norm: str, today: date) -> date | None:
    """Same as ``parse_birth_date`` for text that is already normalised."""
    found = _birth_dates(norm, today)
    return found[0][2] if found else None


def parse_last4(text: str) -> str | None:
    """Parse a standalone 4-digit group (card/loan suffix), excluding years and amounts.

    Args:
        text: Raw or normalised message text.

    Returns:
        The four digits as a string, or None.
    """
    return last4_from_normalised(normalise(text))


def last4_from_normalised(norm: str) -> str | None:
    """Same as ``parse_last4`` for text that is already normalised."""
    births = _birth_dates(norm, date(2100, 1, 1))
    spans = [(s, e) for s, e, _ in births]
    spans += [(s, e) for s, e, _, _ in _amount_atoms(norm)]
    spans += [m.span() for m in _NAMED_DATE.finditer(norm)]
    found = [
        m.group(0)
        for m in _LAST4.finditer(norm)
        if not any(s <= m.start() < e for s, e in spans)
        and not _NOT_LAST4_BEFORE.search(norm[: m.start()])
    ]
    years = {str(born.year) for _, _, born in births}
    # A birth year repeated on its own ("tahunnya 1984 ... lahir 5 Oktober 1984") is no suffix.
    return next((g for g in found if g not in years), found[0] if found else None)


def parse_tenor(text: str) -> int | None:
    """Parse an instalment tenor in months ("6 bulan", "cicil 6x", "setahun", "2 tahun").

    Args:
        text: Raw or normalised message text.

    Returns:
        The tenor in months, or None ("bulan ini" is not a tenor).
    """
    norm = normalise(text)
    m = _TENOR.search(norm)
    if m:
        raw = m.group(1)
        count = int(raw) if raw.isdigit() else int(_words_value(raw))
        months = count * 12 if m.group(2) == "tahun" else count
        return months if 1 <= months <= 120 else None
    for word, months in _TENOR_WORDS:
        if word == "tenor":
            hit = re.search(r"\btenor\s+(\d{1,3})\b", norm)
            return int(hit.group(1)) if hit else None
        if re.search(rf"\b{word}\b", norm):
            return months
    return None


def parse_choice(text: str) -> tuple[int | None, str | None]:
    """Parse a plan choice: an ordinal (1-based, -1 = last) and/or a plan keyword.

    Args:
        text: Raw or normalised message text.

    Returns:
        ``(ordinal, plan)``; either may be None.
    """
    norm = normalise(text)
    m = _ORDINAL_RE.search(norm)
    ordinal = None
    if m:
        word = m.group(1)
        ordinal = int(word) if word.isdigit() else _ORDINALS[word]
    plan = next((name for name, rx in _PLANS if rx.search(norm)), None)
    return ordinal, plan
