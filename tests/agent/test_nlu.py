"""Tests for the offline NLU: dataset accuracy, cross-validation, safety and normalisation."""

from __future__ import annotations

from datetime import date

import pytest

from agent.engines.offline import Understanding, normalise, understand
from agent.engines.offline.classifier import MODEL_PATH
from agent.engines.offline.normalise import tokens
from evals.nlu import (
    DEV2_SET,
    DEV_SET,
    HOLDOUT_SET,
    SLOT_KEYS,
    NluItem,
    NluReport,
    evaluate_nlu,
    load_nlu_set,
)
from evals.train_nlu import cross_validate, model_json, training_items

TODAY = date(2026, 11, 23)  # a Monday, the datasets' reference date
# Both dev sets are TRAINING data now (rules were widened and the Naive Bayes fallback is
# trained on them), so their accuracy floors only guard against regressions.
DEV_FLOOR = 0.95
# 5-fold CV over dev1+dev2 (python -m evals.train_nlu), measured 0.9957; floor = that - 3 pts.
CV_FLOOR = 0.9657
CV_INFORMAL_FLOOR = 0.9654  # measured 0.9954 - 3 pts
# Held-out set, measured once after development froze: 0.9524 (200/210); floor = that - 3 pts.
HOLDOUT_FLOOR = 0.9224
HOLDOUT_DISTRESS_MIN_HITS = 9  # measured 10/10 distress items recognised, minus one item


def _distress_recall(items: list[NluItem]) -> float:
    """Share of distress items recognised as distress."""
    gold = [item for item in items if item.intent == "distress"]
    return sum(understand(i.text, i.today).intent == "distress" for i in gold) / len(gold)


@pytest.fixture(scope="module")
def dev_items() -> list[NluItem]:
    """Dev set 1 followed by dev set 2 (the training data)."""
    return training_items()


@pytest.fixture(scope="module")
def dev_report(dev_items: list[NluItem]) -> NluReport:
    """Evaluate dev1+dev2 once per module."""
    return evaluate_nlu(dev_items, understand)


@pytest.mark.parametrize(("path", "size"), [(DEV_SET, 420), (DEV2_SET, 504)])
def test_dev_set_accuracy(path: object, size: int) -> None:
    report = evaluate_nlu(load_nlu_set(str(path)), understand)
    assert report.total == size
    assert report.accuracy >= DEV_FLOOR, report.confusion
    assert report.per_style["informal"] >= DEV_FLOOR, report.confusion


def test_dev_slot_accuracy(dev_report: NluReport) -> None:
    assert set(dev_report.slot_accuracy) == set(SLOT_KEYS)
    for key, accuracy in dev_report.slot_accuracy.items():
        assert accuracy >= 0.95, (key, [e for e in dev_report.errors if key in e.slot_mismatches])


def test_dev_distress_recall(dev_items: list[NluItem]) -> None:
    assert _distress_recall(dev_items) >= 0.95


def test_cross_validated_accuracy(dev_items: list[NluItem]) -> None:
    result = cross_validate(dev_items)
    assert result["all"] >= CV_FLOOR, result
    assert result["informal"] >= CV_INFORMAL_FLOOR, result
    assert result["distress"] >= 0.95, result


def test_shipped_model_is_reproducible(dev_items: list[NluItem]) -> None:
    assert MODEL_PATH.read_text(encoding="utf-8") == model_json(dev_items)


def test_holdout_accuracy_floor() -> None:
    items = load_nlu_set(HOLDOUT_SET)
    report = evaluate_nlu(items, understand)
    assert report.accuracy >= HOLDOUT_FLOOR
    gold = [item for item in items if item.intent == "distress"]
    hits = sum(understand(i.text, i.today).intent == "distress" for i in gold)
    assert hits >= HOLDOUT_DISTRESS_MIN_HITS


def test_understand_is_deterministic_and_audited() -> None:
    first = understand("udh tf 500rb tadi kak", TODAY)
    assert first == understand("udh tf 500rb tadi kak", TODAY)
    assert isinstance(first, Understanding)
    assert first.intent == "already_paid" and first.slots.amount == 500_000
    assert first.matched and first.matched[0].startswith("already_paid.")
    assert 0.0 < first.confidence <= 1.0


def test_classifier_fallback_is_audited() -> None:
    result = understand("rekening bank nya apa", TODAY)
    assert result.intent == "request_payment_link"
    assert result.matched[0] == "classifier.request_payment_link"


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
        ("", "out_of_scope"),
        ("👍", "out_of_scope"),
        ("duitnya udah gw kirim semalem", "already_paid"),
        ("mau nego bunga dong", "ask_plans"),
    ],
)
def test_priorities_and_fallback(text: str, intent: str) -> None:
    assert understand(text, TODAY).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "cape idup gini terus",
        "ga ada gunanya lagi",
        "lebih baik gw ga ada",
        "pengen ngilang aja",
        "gw udh ga pengen bangun besok",
        "rasanya pengen nyerah aja sama semuanya",
        "ga sanggup lagi ngejalanin hidup",
        "udah nyiapin tali",
        "kepikiran loncat dari jembatan",
        "semua orang lebih baik tanpa aku",
        "hidup gw udah ga ada artinya",
        "sudah saya tulis surat terakhir untuk anak saya",
        "kalau saya meninggal utangnya lunas kan",
        "hp mati, gw pengen mati aja",
    ],
)
def test_distress_lexicon(text: str) -> None:
    assert understand(text, TODAY).intent == "distress"


@pytest.mark.parametrize(
    "text",
    [
        "HP gw mati semalem jadi ga bales",
        "mati lampu dr kemaren jd telat bayar",
        "kartu saya sudah mati",
        "aplikasinya mati terus",
        "lebih baik tidak ada bunga",
        "mending gw bayar minggu depan aja",
    ],
)
def test_not_distress(text: str) -> None:
    assert understand(text, TODAY).intent != "distress"


def test_slots_only_where_relevant() -> None:
    assert understand("besok aku bayar 1jt", TODAY).slots.date == date(2026, 11, 24)
    complaint = understand("aku udh 3x komplain, dc nya nelpon tgl 5", TODAY)
    assert complaint.intent == "complaint"
    assert complaint.slots.tenor is None and complaint.slots.date is None
    choice = understand("saya pilih opsi kedua", TODAY)
    assert (choice.intent, choice.slots.ordinal) == ("choose_plan", 2)


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
