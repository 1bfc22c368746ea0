"""Masking of personal data before it reaches the audit trail, logs, reports or an LLM."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+62|\b62|\b0)8[\d\s-]{7,14}\d")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# Not inside our own references (SGH-20260925-003, OF-12345678): those follow a letter code.
_LONG_NUMBER = re.compile(r"(?<![\w-])(?!\d{4}-\d{2}-\d{2}\b)\d(?:[\s-]?\d){7,18}\b")
_DATE_NUMERIC = re.compile(r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4}\b")
_MONTHS = (
    "januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember|"
    "jan|feb|mar|apr|jun|jul|agu|agt|ags|aug|sep|sept|okt|oct|nov|des|dec"
)
_DATE_WORDS = re.compile(rf"\b\d{{1,2}}\s+(?:{_MONTHS})\.?\s+\d{{2,4}}\b", re.IGNORECASE)
_FOUR_DIGITS = re.compile(r"(?<!\d)(?<!\d[.,])\d{4}(?!\d|[.,]\d)")  # not inside 12.450.000


def _keep_last4(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str, *, iso_dates: bool = True) -> str:
    """Mask e-mails, phones, NIK and card/loan numbers (last four kept) and full dates.

    ``iso_dates=False`` keeps ``YYYY-MM-DD`` values: in structured tool results those are due
    dates and expiries, while personal dates sit under sensitive keys (``birth_date``).
    """
    if iso_dates:
        text = _ISO_DATE.sub("[tanggal]", text)
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[telepon]", text)
    text = _DATE_WORDS.sub("[tanggal]", text)
    text = _DATE_NUMERIC.sub("[tanggal]", text)  # before long numbers: 14-03-1988 is a date
    return _LONG_NUMBER.sub(_keep_last4, text)


@lru_cache(maxsize=2048)  # the same history is masked again on every model call
def mask_for_provider(text: str) -> str:
    """Mask as :func:`mask_text`, and also bare four-digit groups (verification digits)."""
    return _FOUR_DIGITS.sub("[4digit]", mask_text(text))


_SENSITIVE_KEYS = {"birth_date", "last4", "card_last4", "loan_last4", "phone", "email", "nik"}


def mask_value(value: Any) -> Any:
    """Mask personal data inside nested tool arguments and results."""
    if isinstance(value, dict):
        return {
            k: ("[disamarkan]" if k in _SENSITIVE_KEYS and v else mask_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, str):
        return mask_text(value, iso_dates=False)
    return value
