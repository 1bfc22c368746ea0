"""Formatting, tokens, working days and masking."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent import tokens
from agent.formatting import hari_tanggal, rupiah, tanggal
from agent.privacy import mask_for_provider, mask_text
from agent.workdays import add_working_days, is_working_day

NOW = datetime.fromisoformat("2026-11-23T10:00:00+07:00")


def test_rupiah_and_dates_in_indonesian() -> None:
    assert rupiah(12_450_000) == "Rp12.450.000"
    assert rupiah(750) == "Rp750"
    assert tanggal(date(2026, 11, 28)) == "28 November 2026"
    assert hari_tanggal(date(2026, 12, 7)) == "Senin, 7 Desember 2026"


def test_complaint_example_of_the_policy() -> None:
    assert add_working_days(date(2026, 11, 23), 10) == date(2026, 12, 7)


def test_national_holidays_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2026, 8, 17))
    assert is_working_day(date(2026, 11, 23))


def test_token_round_trip_and_tampering() -> None:
    token = tokens.sign(b"k", "pay", {"amt": 100}, NOW + timedelta(hours=1))
    assert tokens.verify(b"k", "pay", token, NOW)["amt"] == 100
    payload, sig = token.split(".")
    forged = tokens.sign(b"k", "pay", {"amt": 1}, NOW + timedelta(hours=1)).split(".")[0]
    for bad in (f"{forged}.{sig}", token + "x", "garbage", ""):
        with pytest.raises(tokens.TokenError):
            tokens.verify(b"k", "pay", bad, NOW)
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.verify(b"k", "pay", token, NOW + timedelta(hours=2))
    with pytest.raises(tokens.TokenError, match="not a session"):
        tokens.verify(b"k", "session", token, NOW)


@given(st.text(max_size=200))
def test_verify_never_crashes_on_junk(junk: str) -> None:
    with pytest.raises(tokens.TokenError):
        tokens.verify(b"k", "pay", junk, NOW)


def test_masking_of_personal_data() -> None:
    text = "kartu 4111 1111 1111 9054, lahir 23 November 1979, hp 0812-3456-7890, a@b.co"
    masked = mask_text(text)
    assert "9054" in masked and "4111" not in masked
    assert "1979" not in masked and "7890" not in masked and "a@b.co" not in masked
    assert mask_for_provider("4 digit terakhir 9054") == "4 digit terakhir [4digit]"
    assert "23/11/1979" not in mask_text("lahir 23/11/1979")
