"""Approved outbound templates: every rendering is private, short enough and compliant."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.outreach.templates import (
    AMOUNT_PLACEHOLDER,
    REMINDER_STAGES,
    SMS_LIMIT,
    TemplateBook,
    TemplateError,
    load_templates,
)
from guardrails.checker import ComplianceGuard
from guardrails.context import GuardContext

BOOK = load_templates()
GUARD = ComplianceGuard()
AMOUNT = 12_450_000
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=7)))
CONTEXT = GuardContext(
    verified=True,
    outbound=True,
    local_time=TUESDAY_10,
    known_amounts=frozenset({AMOUNT}),
    product="kartu_kredit",
    kol=2,
)
LONG_NAME = "Bambang Sutrisno Adi"
LINK = "https://santun.example/c/Ab3dE9"
VALUE_SETS = [
    {
        "nama": "Andi Pratama",
        "produk": "kartu kredit",
        "last4": "4821",
        "tanggal": "28 November 2026",
        "tautan": LINK,
        "jumlah": "Rp12.450.000",
    },
    {
        "nama": LONG_NAME,
        "produk": "pinjaman KTA",
        "last4": "0937",
        "tanggal": "30 September 2026",
        "tautan": LINK,
        "jumlah": "Rp12.450.000",
    },
]
CHANNELS = ("web", "email", "whatsapp", "sms")
CASES = [
    (family, stage)
    for family, spec in sorted(BOOK.families.items())
    for stage in sorted(spec.stages)
]
# Rp amounts, digits with thousands separators, and spelled-out sizes.
AMOUNT_TEXT = re.compile(r"\brp\.?\s?\d|\d{1,3}(?:[.,]\d{3})+\b|\b(?:juta|ribu|jt|rb)\b", re.I)
# Days past due or collectability: the size or age of the debt.
DEBT_AGE = re.compile(r"\b\d+\s*(?:hari|bulan|minggu)\b|\bdpd\b|\bkol(?:ektibilitas)?\b", re.I)


def _render_all(family: str, stage: str) -> list[tuple[str, Any]]:
    return [
        (channel, BOOK.render(family, stage, channel, values))
        for values in VALUE_SETS
        for channel in CHANNELS
    ]


# --- the packaged book ------------------------------------------------------------------


def test_packaged_book_has_every_family_and_stage():
    assert BOOK.version == "2026-11-outreach"
    assert set(BOOK.families) == {"ramah", "lugas", "empati", "informatif"}
    for family in ("ramah", "lugas", "empati"):
        assert set(BOOK.families[family].stages) == set(REMINDER_STAGES)
    assert "dispute_update" in BOOK.families["informatif"].stages


@pytest.mark.parametrize(("family", "stage"), CASES)
def test_every_rendering_is_filled_and_names_the_sender(family, stage):
    for channel, message in _render_all(family, stage):
        assert message.template_id == f"{family}.{stage}.{channel}"
        for text in (message.text, message.subject or ""):
            assert "{" not in text and "}" not in text, text
        assert "Bank Nusantara" in message.text
        assert LINK in message.text
        assert message.text == message.text.strip()


@pytest.mark.parametrize(("family", "stage"), CASES)
def test_every_rendering_passes_the_guardrail(family, stage):
    for _channel, message in _render_all(family, stage):
        for text in (message.text, message.subject or ""):
            verdict = GUARD.check(text, CONTEXT)
            assert verdict.allowed and not verdict.violations, (
                f"{message.template_id}: {verdict.violations}\n{text}"
            )


@pytest.mark.parametrize(("family", "stage"), CASES)
def test_sms_fits_one_message_with_a_twenty_character_name(family, stage):
    assert len(LONG_NAME) == 20
    for values in VALUE_SETS:
        text = BOOK.render(family, stage, "sms", values).text
        assert values["nama"] in text
        assert len(text) <= SMS_LIMIT, f"{len(text)}: {text}"
        assert text.isascii()


@pytest.mark.parametrize(("family", "stage"), CASES)
def test_no_amount_or_debt_age_outside_the_web_inbox(family, stage):
    for channel, message in _render_all(family, stage):
        if channel == "web":
            continue
        for text in (message.text, message.subject or ""):
            assert not AMOUNT_TEXT.search(text), f"{message.template_id}: {text}"
            assert not DEBT_AGE.search(text), f"{message.template_id}: {text}"


@pytest.mark.parametrize(("family", "stage"), CASES)
def test_every_message_ends_with_how_to_stop_reminders(family, stage):
    for channel, message in _render_all(family, stage):
        last = message.text.split("\n\n")[-1]
        if channel == "web":
            assert "Pengaturan pengingat" in last and "chat" in last
        else:
            assert "BERHENTI" in last
            assert message.text.rstrip(".").endswith(("stop", "lagi"))


@pytest.mark.parametrize("family", ["ramah", "lugas", "empati"])
def test_web_inbox_adds_the_amount_only_when_given(family):
    values = VALUE_SETS[0]
    with_amount = BOOK.render(family, "after_due", "web", values).text
    assert "Rp12.450.000" in with_amount and AMOUNT_TEXT.search(with_amount)
    without = {k: v for k, v in values.items() if k != AMOUNT_PLACEHOLDER}
    assert not AMOUNT_TEXT.search(BOOK.render(family, "after_due", "web", without).text)
    # jumlah handed to another channel is simply not used
    assert "Rp" not in BOOK.render(family, "after_due", "whatsapp", values).text


def test_email_gets_a_subject_and_other_channels_none():
    values = VALUE_SETS[0]
    assert BOOK.render("lugas", "after_due", "email", values).subject
    for channel in ("web", "whatsapp", "sms"):
        assert BOOK.render("lugas", "after_due", channel, values).subject is None


def test_dispute_messages_only_inform():
    asking = re.compile(r"\b(?:mohon|harap|segera|wajib|harus)\b[^.]*\bbayar", re.I)
    for stage in BOOK.families["informatif"].stages:
        for _channel, message in _render_all("informatif", stage):
            assert "sanggahan" in message.text.lower()
            assert not asking.search(message.text), message.text
            assert not AMOUNT_TEXT.search(message.text)  # not even in the web inbox


def test_hardship_family_offers_a_person_to_talk_to():
    for stage in REMINDER_STAGES:
        text = BOOK.render("empati", stage, "whatsapp", VALUE_SETS[0]).text
        assert "petugas kami" in text


# --- the guardrail context really blocks -------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "Bapak Andi, kalau tidak bayar hari ini kami akan datangi rumah Anda.",
        "Ini kesempatan terakhir Anda, lunasi hari ini juga.",
        "Tagihan Anda Rp99.000.000, segera bayar.",  # amount the tools never returned
        "BAYAR SEKARANG JUGA!!!",
        "Tagihan Anda sudah diserahkan ke debt collector lapangan.",  # card at kol 2
    ],
)
def test_guard_context_blocks_bad_outbound_text(bad):
    verdict = GUARD.check(bad, CONTEXT)
    assert not verdict.allowed and verdict.violations


def test_guard_context_blocks_a_template_sent_on_sunday():
    text = BOOK.render("ramah", "before_due", "sms", VALUE_SETS[0]).text
    sunday = GuardContext(verified=True, outbound=True, local_time=TUESDAY_10 - timedelta(days=2))
    assert not GUARD.check(text, sunday).allowed


# --- rendering errors --------------------------------------------------------------------


def test_missing_value_names_the_template():
    values = {k: v for k, v in VALUE_SETS[0].items() if k != "tanggal"}
    with pytest.raises(TemplateError, match=r"lugas\.before_due\.sms.*tanggal"):
        BOOK.render("lugas", "before_due", "sms", values)


@pytest.mark.parametrize(
    ("family", "stage", "channel", "message"),
    [
        ("galak", "after_due", "sms", "unknown template family 'galak'"),
        ("informatif", "due_today", "sms", "family 'informatif' has no stage 'due_today'"),
        ("ramah", "after_due", "fax", "unknown channel 'fax'"),
    ],
)
def test_unknown_names_are_rejected(family, stage, channel, message):
    with pytest.raises(TemplateError, match=re.escape(message)):
        BOOK.render(family, stage, channel, VALUE_SETS[0])


# --- loader errors, on small files -------------------------------------------------------


def _stage(word: str) -> dict[str, str]:
    return {
        "long": f"Bapak/Ibu {{{{ nama }}}}, {word} Bank Nusantara {{{{ tanggal }}}}.",
        "sms": f"Bank Nusantara: {word} {{{{ tanggal }}}}. Balas BERHENTI utk stop",
    }


def _minimal() -> dict[str, Any]:
    families: dict[str, Any] = {}
    for name in ("ramah", "lugas", "empati"):
        families[name] = {
            "web_extra": "Total {{ jumlah }}.",
            "subjects": {stage: f"Pengingat {stage}" for stage in REMINDER_STAGES},
            "stages": {stage: _stage(stage) for stage in REMINDER_STAGES},
        }
    families["informatif"] = {
        "subjects": {"dispute_update": "Sanggahan"},
        "stages": {"dispute_update": _stage("sanggahan")},
    }
    return {
        "version": "test",
        "closings": dict.fromkeys(("web", "email", "whatsapp"), "Balas BERHENTI."),
        "families": families,
    }


def _load(tmp_path: Path, data: dict[str, Any]) -> TemplateBook:
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_templates(path)


def test_minimal_file_loads(tmp_path):
    book = _load(tmp_path, _minimal())
    assert book.version == "test"
    assert book.render("ramah", "due_today", "sms", {"tanggal": "1 Desember 2026"}).text == (
        "Bank Nusantara: due_today 1 Desember 2026. Balas BERHENTI utk stop"
    )


def test_unknown_placeholder_is_rejected(tmp_path):
    data = _minimal()
    data["families"]["ramah"]["stages"]["before_due"]["sms"] = "Saldo {{ saldo }}."
    with pytest.raises(
        TemplateError, match=r"ramah\.before_due\.sms uses unknown placeholder.*saldo"
    ):
        _load(tmp_path, data)


def test_missing_stage_is_rejected(tmp_path):
    data = _minimal()
    del data["families"]["lugas"]["stages"]["after_due"]
    with pytest.raises(TemplateError, match="family 'lugas' is missing stage 'after_due'"):
        _load(tmp_path, data)


def test_missing_channel_text_is_rejected(tmp_path):
    data = _minimal()
    del data["families"]["empati"]["stages"]["due_today"]["sms"]
    with pytest.raises(TemplateError, match=r"families\.empati\.stages\.due_today\.sms"):
        _load(tmp_path, data)


@pytest.mark.parametrize(
    ("where", "template_id"),
    [
        (("stages", "due_today", "long"), "empati.due_today.long"),
        (("stages", "due_today", "sms"), "empati.due_today.sms"),
        (("subjects", "after_due"), "empati.subjects.after_due"),
    ],
)
def test_amount_outside_web_extra_is_rejected(tmp_path, where, template_id):
    data = _minimal()
    node = data["families"]["empati"]
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = "Tagihan Anda {{ jumlah }}."
    with pytest.raises(TemplateError, match=re.escape(template_id) + r" uses \{\{ jumlah \}\}"):
        _load(tmp_path, data)


def test_too_long_sms_is_rejected(tmp_path):
    data = _minimal()
    data["families"]["lugas"]["stages"]["before_due"]["sms"] = "Bank Nusantara " + "x" * 150
    with pytest.raises(TemplateError, match=r"lugas\.before_due\.sms is 165 characters"):
        _load(tmp_path, data)


def test_non_gsm_sms_is_rejected(tmp_path):
    data = _minimal()
    data["families"]["ramah"]["stages"]["after_due"]["sms"] = "Bank Nusantara \u2013 info"
    with pytest.raises(TemplateError, match=r"ramah\.after_due\.sms uses characters outside"):
        _load(tmp_path, data)


def test_other_structure_errors_are_named(tmp_path):
    cases: list[tuple[str, Any]] = []
    data = _minimal()
    del data["families"]["informatif"]
    cases.append(("missing family 'informatif'", data))
    data = _minimal()
    data["families"]["galak"] = copy.deepcopy(data["families"]["ramah"])
    cases.append(("unknown family 'galak'", data))
    data = _minimal()
    del data["families"]["ramah"]["subjects"]["due_today"]
    cases.append(("family 'ramah' has no e-mail subject for stage 'due_today'", data))
    data = _minimal()
    data["families"]["ramah"]["stages"]["dispute_update"] = _stage("x")
    cases.append(("family 'ramah' has unknown stage 'dispute_update'", data))
    data = _minimal()
    del data["closings"]["web"]
    cases.append(("closings: missing channel(s) web", data))
    data = _minimal()
    data["families"]["lugas"]["stages"]["due_today"]["long"] = "Halo {{ nama "
    cases.append(("lugas.due_today.long: Jinja syntax error", data))
    for message, broken in cases:
        with pytest.raises(TemplateError, match=re.escape(message)):
            _load(tmp_path, broken)


def test_unreadable_file_is_a_template_error(tmp_path):
    with pytest.raises(TemplateError, match="cannot read templates"):
        load_templates(tmp_path / "absent.yaml")
