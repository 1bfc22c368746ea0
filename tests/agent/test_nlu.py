"""Tests for the offline NLU: dataset accuracy, slot parsers and normalisation."""

from __future__ import annotations

from datetime import date

import pytest

from agent.engines.offline import Understanding, normalise, understand
from agent.engines.offline.normalise import tokens
from agent.engines.offline.slots import (
    parse_amount,
    parse_birth_date,
    parse_choice,
    parse_date,
    parse_last4,
    parse_tenor,
)
from evals.nlu import DEV_SET, HOLDOUT_SET, SLOT_KEYS, NluReport, evaluate_nlu, load_nlu_set

TODAY = date(2026, 11, 23)  # a Monday, the datasets' reference date
# Held-out accuracy measured once, after development froze: 0.8238 (173/210); floor = that - 3 pts.
HOLDOUT_FLOOR = 0.79


@pytest.fixture(scope="module")
def dev_report() -> NluReport:
    """Evaluate the dev set once per module."""
    return evaluate_nlu(load_nlu_set(DEV_SET), understand)


def test_dev_intent_accuracy(dev_report: NluReport) -> None:
    assert dev_report.total == 420
    assert dev_report.accuracy >= 0.95, dev_report.confusion


def test_dev_informal_accuracy(dev_report: NluReport) -> None:
    assert dev_report.per_style["informal"] >= 0.93


def test_dev_slot_accuracy(dev_report: NluReport) -> None:
    assert set(dev_report.slot_accuracy) == set(SLOT_KEYS)
    for key, accuracy in dev_report.slot_accuracy.items():
        assert accuracy >= 0.95, (key, [e for e in dev_report.errors if key in e.slot_mismatches])


def test_holdout_accuracy_floor() -> None:
    report = evaluate_nlu(load_nlu_set(HOLDOUT_SET), understand)
    assert report.accuracy >= HOLDOUT_FLOOR


def test_understand_is_deterministic_and_audited() -> None:
    first = understand("udh tf 500rb tadi kak", TODAY)
    assert first == understand("udh tf 500rb tadi kak", TODAY)
    assert isinstance(first, Understanding)
    assert first.intent == "already_paid" and first.slots.amount == 500_000
    assert first.matched and first.matched[0].startswith("already_paid.")
    assert 0.0 < first.confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("saya istrinya, mau tanya tagihan suami", "third_party"),
        ("mending gw mati aja, utang ga kelar2", "distress"),
        ("dasar b*ngsat lu", "abusive"),
        ("a n j i n g", "abusive"),
        ("5521 lahir 02-02-1980", "verify"),
        ("cuaca besok gimana", "out_of_scope"),
        ("qwerty zxcv", "out_of_scope"),
    ],
)
def test_priorities_and_fallback(text: str, intent: str) -> None:
    assert understand(text, TODAY).intent == intent


def test_slots_only_where_relevant() -> None:
    assert understand("besok aku bayar 1jt", TODAY).slots.date == date(2026, 11, 24)
    complaint = understand("aku udh 3x komplain, dc nya nelpon tgl 5", TODAY)
    assert complaint.intent == "complaint"
    assert complaint.slots.tenor is None and complaint.slots.date is None
    choice = understand("saya pilih opsi kedua", TODAY)
    assert (choice.intent, choice.slots.ordinal) == ("choose_plan", 2)


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
    ("raw", "expected"),
    [
        ("Gw udh tf, gak boong!!", "saya sudah transfer tidak boong"),
        ("brp tgl jatuh tempo yg cc?", "berapa tanggal jatuh tempo yang kartu kredit"),
        ("tolongggg", "tolong"),
        ("mana linknyaaa", "mana linknya"),
        ("tunggakan", "tunggakan"),
        ("a n j i n g", "anjing"),
        ("4nj1ng", "anjing"),
        ("b*ngsat", "bangsat"),
        ("p3nj4r4", "penjara"),
        ("Rp 750.000,-", "rp 750.000"),
        ("lahir 23/11/79", "lahir 23/11/79"),
        ("1,5jt", "1,5 juta"),
        ("temen2", "teman"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_tokens_split_multiword_slang() -> None:
    assert tokens("cc gw") == ["kartu", "kredit", "saya"]
