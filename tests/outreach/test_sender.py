"""Sending what is due: once per key, inside the window and caps, guarded, crash-safe."""

from __future__ import annotations

import re
from datetime import datetime

from agent.storage.outreach import OutboxRow
from tests.outreach.conftest import Rig

AMOUNT = re.compile(r"Rp\s?\d|\d{1,3}(?:\.\d{3})+")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def rows(rig: Rig) -> dict[str, OutboxRow]:
    return {row.key: row for row in rig.service.outreach.messages()}


def test_run_sends_only_what_is_due_and_never_twice(rig: Rig) -> None:
    rig.clock.at = at("2026-11-23T10:00:00+07:00")  # 11:00 WITA
    first = rig.service.run()
    sms = rig.channels["sms"].shown
    assert first.report.sent == 1 and [m.account_id for m in sms] == ["CC-1003"]
    assert sms[0].address == "+62 812-0000-1003"
    assert "Bank Nusantara" in sms[0].text and not AMOUNT.search(sms[0].text)
    again = rig.service.run()
    assert again.report.sent == 0 and len(rig.channels["sms"].calls) == 1
    assert rows(rig)[sms[0].key].status == "sent"


def test_later_in_the_day_the_next_debtor_is_due(rig: Rig) -> None:
    rig.clock.at = at("2026-11-23T16:30:00+07:00")  # 18:30 WIT in Jayapura
    report = rig.service.run().report
    sent_to = sorted(m.account_id for m in rig.shown())
    assert "CC-1010" in sent_to and report.sent == len(sent_to)
    email = next(m for m in rig.channels["email"].shown if m.account_id == "CC-1010")
    assert email.subject and not AMOUNT.search(email.text + email.subject)


def test_a_message_found_outside_the_window_is_moved_not_sent(rig: Rig) -> None:
    rig.clock.at = at("2026-11-25T18:00:00+07:00")
    rig.service.enqueue()  # CC-1001's reminder is planned for 19:00 WIB
    key = "CC-1001:before_due:2026-11-25"
    assert rows(rig)[key].status == "queued"
    rig.clock.at = at("2026-11-25T20:30:00+07:00")  # the sender ran late
    report = rig.service.sender.send_due()
    row = rows(rig)[key]
    assert report.refused >= 1 and row.status == "queued"
    assert all(m.key != key for m in rig.shown())
    assert row.send_at.astimezone(at("2026-11-26T08:00:00+07:00").tzinfo) == at(
        "2026-11-26T08:00:00+07:00"
    )
    refused = rig.service.outreach.events(["refused"])
    assert any(e.key == key and "20:00" in (e.detail or {}).get("reason", "") for e in refused)


def test_opt_out_cancels_every_queued_message_on_every_channel(rig: Rig) -> None:
    rig.clock.at = at("2026-11-23T07:30:00+07:00")
    rig.service.enqueue()
    queued = [r for r in rows(rig).values() if r.account_id == "CC-1003"]
    assert queued
    cancelled = rig.service.outreach.set_opt_out("CC-1003", True, rig.clock.at, "test")
    assert cancelled == len(queued)
    rig.clock.at = at("2026-11-23T12:00:00+07:00")
    rig.service.run()
    assert all(m.account_id != "CC-1003" for m in rig.shown())
    assert "CC-1003" in rig.service.plan(7).skipped


def test_the_guardrail_blocks_a_bad_draft_before_any_channel(rig: Rig) -> None:
    class Threatening:
        def render(
            self, family: str, stage: str, channel: str, values: object, offer_human: bool = False
        ) -> object:
            from agent.outreach.templates import RenderedMessage

            text = "Bayar hari ini atau kami laporkan ke polisi dan datangi kantor Anda."
            return RenderedMessage(template_id="bad", text=text, subject=None)

    rig.service.sender.drafter = Threatening()
    rig.clock.at = at("2026-11-23T10:00:00+07:00")
    report = rig.service.run().report
    assert report.blocked == 1 and report.sent == 0 and rig.shown() == []
    row = next(r for r in rows(rig).values() if r.account_id == "CC-1003")
    assert row.status == "blocked" and "guardrail" in (row.last_error or "")


def test_a_provider_outage_is_retried_later(rig: Rig) -> None:
    rig.channels["sms"].fail_next = 1
    rig.clock.at = at("2026-11-23T10:00:00+07:00")
    assert rig.service.run().report.retrying == 1
    assert rig.channels["sms"].shown == []
    rig.clock.at = at("2026-11-23T10:15:00+07:00")
    assert rig.service.run().report.sent == 1
    assert len(rig.channels["sms"].shown) == 1


def test_a_crash_after_the_provider_accepted_never_shows_the_message_twice(rig: Rig) -> None:
    rig.channels["sms"].crash_after_accept = True
    rig.clock.at = at("2026-11-23T10:00:00+07:00")
    try:
        rig.service.run()
    except KeyboardInterrupt:
        pass
    row = next(r for r in rows(rig).values() if r.account_id == "CC-1003")
    assert row.status == "sending"  # the crash left it mid-send
    report = rig.service.run().report  # the restarted sender
    assert report.duplicates == 1 and report.sent == 0
    assert len(rig.channels["sms"].calls) == 2 and len(rig.channels["sms"].shown) == 1
    assert rows(rig)[row.key].status == "sent"


def test_web_inbox_message_may_carry_the_amount(rig: Rig) -> None:
    rig.clock.at = at("2026-11-25T09:30:00+08:00")  # CC-1007 prefers the web inbox (WITA)
    rig.service.run()
    web = [m for m in rig.channels["web"].shown if m.account_id == "CC-1007"]
    assert len(web) == 1 and "Rp" in web[0].text


def test_plan_skips_say_why(rig: Rig) -> None:
    skipped = rig.service.plan(7).skipped
    assert skipped["CC-1006"] == "opted out of proactive contact"
    assert "no reminder falls in the next 7 days" in skipped["KTA-2002"]


def test_a_person_is_offered_where_the_strategy_says_and_the_guard_allows_it(rig: Rig) -> None:
    rig.clock.at = at("2026-11-26T10:30:00+09:00")  # CC-1004 (hardship) by e-mail, WIT
    rig.service.run()
    email = [m for m in rig.channels["email"].shown if m.account_id == "CC-1004"]
    assert len(email) == 1 and "PETUGAS" in email[0].text
    assert email[0].text.rstrip().endswith("pengingat lagi.")  # the stop line stays last
