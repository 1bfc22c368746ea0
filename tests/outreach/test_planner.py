"""The outreach plan keeps every contact rule: window, days, holidays, caps, consent, opt-out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.outreach.contact import ContactStats
from agent.outreach.planner import Debtor, PlannedMessage, occasions, plan_debtor
from agent.outreach.segments import SegmentResult
from agent.outreach.sendtime import SendHour, send_hour, usual_hour
from agent.outreach.strategy import load_strategy
from agent.outreach.window import Caps, ContactPolicy
from agent.policy import load_policy
from agent.portfolio import Account, load_portfolio

PORTFOLIO = load_portfolio()
POLICY = ContactPolicy.from_policy(load_policy().contact_window)
STRATEGY = load_strategy()
DONE_WHEN_NOW = "2026-11-23T07:30:00+07:00"


def plan_json(tmp_path: Path, now: str, days: int = 7) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANTUN_")}
    env.update(SANTUN_DATA_DIR=str(tmp_path / "data"), SANTUN_NOW=now, SANTUN_SECRET_KEY="t")
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "outreach", "plan", "--days", str(days), "--json"],
        text=True,
        capture_output=True,
        env=env,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return plan_json(tmp_path_factory.mktemp("plan"), DONE_WHEN_NOW)


def local_times(plan: list[dict[str, Any]]) -> list[tuple[dict[str, Any], datetime]]:
    found = []
    for line in plan:
        account = PORTFOLIO.account(line["account_id"])
        at = datetime.fromisoformat(line["send_at"])
        # the offset written is the debtor's own
        assert at.utcoffset() == at.astimezone(ZoneInfo(account.timezone)).utcoffset()
        found.append((line, at))
    return found


def test_demo_plan_has_the_contract_fields_and_covers_three_time_zones(
    demo_plan: list[dict[str, Any]],
) -> None:
    assert demo_plan, "the demo portfolio must get reminders"
    for line in demo_plan:
        assert set(line) == {
            "account_id",
            "channel",
            "send_at",
            "template",
            "segment",
            "risk",
            "reason",
        }
        assert line["channel"] in {"web", "email", "whatsapp", "sms"}
        assert 0.0 <= line["risk"] <= 1.0 and line["reason"]
    zones = {PORTFOLIO.account(line["account_id"]).timezone for line in demo_plan}
    assert zones == {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}


def test_demo_plan_sends_nothing_outside_the_local_window(
    demo_plan: list[dict[str, Any]],
) -> None:
    now = datetime.fromisoformat(DONE_WHEN_NOW)
    for line, at in local_times(demo_plan):
        account = PORTFOLIO.account(line["account_id"])
        start, end = (time(6), time(22)) if account.consent_after_hours else (time(8), time(20))
        assert start <= at.time() < end, line
        assert at.weekday() != 6, line  # never Sunday
        assert at.date() not in holidays.country_holidays("ID", years=at.year), line
        assert at >= now


def test_demo_plan_respects_the_daily_and_weekly_caps(demo_plan: list[dict[str, Any]]) -> None:
    by_account: defaultdict[str, list[datetime]] = defaultdict(list)
    for line, at in local_times(demo_plan):
        by_account[line["account_id"]].append(at)
    for account_id, times in by_account.items():
        per_day = Counter(t.date() for t in times)
        assert max(per_day.values()) <= 2, account_id
        for t in times:
            assert sum(1 for u in times if t - timedelta(days=7) < u <= t) <= 6, account_id


def test_opted_out_debtor_gets_nothing(demo_plan: list[dict[str, Any]]) -> None:
    assert PORTFOLIO.account("CC-1006").contact.opt_out
    assert all(line["account_id"] != "CC-1006" for line in demo_plan)


def test_consent_widens_hours_for_cc_1009_only(demo_plan: list[dict[str, Any]]) -> None:
    """CC-1009 answers around 21:00 WITA and consented to after-hours contact: 21:00 is used."""
    cc1009 = [at for line, at in local_times(demo_plan) if line["account_id"] == "CC-1009"]
    assert cc1009 and all(at.hour == 21 for at in cc1009)
    assert all(str(at.utcoffset()) == "8:00:00" for at in cc1009)  # WITA
    others = [at for line, at in local_times(demo_plan) if line["account_id"] != "CC-1009"]
    assert all(time(8) <= at.time() < time(20) for at in others)


def test_the_same_debtor_without_consent_is_moved_inside_the_hours() -> None:
    account = PORTFOLIO.account("CC-1009")
    without = account.model_copy(update={"consent_after_hours": False})
    now = datetime.fromisoformat(DONE_WHEN_NOW)
    with_consent, _ = plan_debtor(debtor(account, hour=21), now, 7, POLICY)
    plain, _ = plan_debtor(debtor(without, hour=21), now, 7, POLICY)
    assert [m.send_at.hour for m in with_consent] == [21] * len(with_consent)
    assert plain and all(m.send_at.hour == 19 for m in plain)  # last hour before 20:00


def test_a_due_date_on_a_holiday_moves_to_the_next_allowed_day() -> None:
    account = card(due=date(2026, 12, 25))  # Christmas Day, a Friday
    now = datetime(2026, 12, 24, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    messages, _ = plan_debtor(debtor(account, hour=10), now, 7, POLICY)
    due = [m for m in messages if m.stage == "due_today"]
    assert len(due) == 1
    assert due[0].send_at == datetime(2026, 12, 26, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert "national holiday" in due[0].reason
    assert all(m.send_at.date() != date(2026, 12, 25) for m in messages)


def test_a_sunday_occasion_moves_to_monday_at_the_same_hour() -> None:
    account = card(due=date(2026, 11, 29))  # a Sunday
    now = datetime(2026, 11, 27, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    messages, _ = plan_debtor(debtor(account, hour=11), now, 5, POLICY)
    due = next(m for m in messages if m.stage == "due_today")
    assert due.send_at == datetime(2026, 11, 30, 11, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert "Sunday" in due.reason


def test_before_eight_the_first_message_waits_for_eight() -> None:
    account = card(due=date(2026, 11, 23))
    now = datetime(2026, 11, 23, 6, 15, tzinfo=ZoneInfo("Asia/Jakarta"))
    messages, _ = plan_debtor(debtor(account, hour=7), now, 1, POLICY)
    assert [m.send_at.time() for m in messages] == [time(8, 0)]


def test_caps_count_messages_already_sent() -> None:
    zone = ZoneInfo("Asia/Jakarta")
    account = card(due=date(2026, 11, 20), dpd=5)
    sent = tuple(datetime(2026, 11, d, 10, tzinfo=zone) for d in (17, 18, 19, 20, 21))
    strategy = STRATEGY.strategy("inconsistent_payer", "high").model_copy(
        update={"max_per_week": 6}
    )
    now = datetime(2026, 11, 23, 7, 0, tzinfo=zone)
    view = debtor(account, hour=10, sent=sent, strategy=strategy)
    messages, _ = plan_debtor(view, now, 14, POLICY)
    times = list(sent) + [m.send_at for m in messages]
    for t in times:
        assert sum(1 for u in times if t - timedelta(days=7) < u <= t) <= 6


def test_daily_cap_moves_a_third_message_to_the_next_day() -> None:
    zone = ZoneInfo("Asia/Jakarta")
    caps = Caps(
        2, 6, [datetime(2026, 11, 23, 9, tzinfo=zone), datetime(2026, 11, 23, 10, tzinfo=zone)]
    )
    moment = datetime(2026, 11, 23, 11, tzinfo=zone)
    assert caps.refusal(moment) == "daily cap of 2 reached"
    assert caps.next_allowed(moment, POLICY, False) == datetime(2026, 11, 24, 8, tzinfo=zone)


def test_keys_already_in_the_outbox_are_not_planned_again() -> None:
    account = card(due=date(2026, 11, 26))
    now = datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    first, _ = plan_debtor(debtor(account, hour=10), now, 7, POLICY)
    keys = frozenset(m.key for m in first)
    again, _ = plan_debtor(debtor(account, hour=10, keys=keys), now, 7, POLICY)
    assert first and again == []


def test_a_promise_pauses_the_overdue_reminders_until_its_date() -> None:
    account = PORTFOLIO.account("CC-1009")  # promised 25 Nov
    found = occasions(
        account, STRATEGY.strategy("procrastinator", "low"), date(2026, 11, 23), date(2026, 11, 29)
    )
    stages = [(o.day.day, o.stage) for o in found]
    assert (24, "promise_reminder") in stages and (25, "promise_reminder") in stages
    assert all(stage == "promise_reminder" for day, stage in stages if day <= 25)


def test_nothing_due_means_no_reminder() -> None:
    account = card(due=date(2026, 11, 26), total=0)
    messages, skip = plan_debtor(
        debtor(account, hour=10), datetime.fromisoformat(DONE_WHEN_NOW), 7, POLICY
    )
    assert messages == [] and skip == "nothing due"


def test_send_hour_is_learned_from_replies() -> None:
    assert usual_hour([19, 20, 19, 9, 21], window=1) == 20  # 19-21 around 20 wins
    assert send_hour([9, 9], default=12, min_replies=3, window=1) == SendHour(12, False, 2)
    assert send_hour([9, 9, 10], default=12, min_replies=3, window=1).hour == 9


ZONES = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]


@settings(max_examples=120, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 20)),
    zone=st.sampled_from(ZONES),
    consent=st.booleans(),
    hour=st.integers(min_value=0, max_value=23),
    due_offset=st.integers(min_value=-200, max_value=10),
    segment=st.sampled_from(["on_time", "procrastinator", "inconsistent_payer", "hardship"]),
    band=st.sampled_from(["low", "medium", "high"]),
)
def test_any_plan_stays_inside_the_window_and_caps(
    start: datetime, zone: str, consent: bool, hour: int, due_offset: int, segment: str, band: str
) -> None:
    now = start.replace(tzinfo=ZoneInfo(zone))
    due = now.date() + timedelta(days=due_offset)
    account = card(due=due, dpd=max(0, -due_offset), zone=zone, consent=consent)
    strategy = STRATEGY.strategy(segment, band)  # type: ignore[arg-type]
    messages, _ = plan_debtor(debtor(account, hour=hour, strategy=strategy), now, 21, POLICY)
    for m in messages:
        local = m.send_at.astimezone(ZoneInfo(zone))
        assert POLICY.refusal(local, consent) is None, m
        assert m.send_at >= now
    assert_caps(messages)


def assert_caps(messages: list[PlannedMessage]) -> None:
    times = [m.send_at for m in messages]
    assert max(Counter(t.date() for t in times).values(), default=0) <= POLICY.per_day
    for t in times:
        assert sum(1 for u in times if t - timedelta(days=7) < u <= t) <= POLICY.per_week


# -- builders ---------------------------------------------------------------------------


def card(
    due: date,
    dpd: int = 0,
    zone: str = "Asia/Jakarta",
    consent: bool = False,
    total: int = 4_180_000,
) -> Account:
    base = PORTFOLIO.account("CC-1001")
    assert base.statement is not None
    statement = base.statement.model_copy(
        update={"due_date": due, "total_due": total, "principal": total, "minimum_due": total // 20}
    )
    return base.model_copy(
        update={
            "statement": statement,
            "dpd": dpd,
            "timezone": zone,
            "consent_after_hours": consent,
        }
    )


def debtor(
    account: Account,
    hour: int,
    sent: tuple[datetime, ...] = (),
    keys: frozenset[str] = frozenset(),
    strategy: Any = None,
) -> Debtor:
    return Debtor(
        account=account,
        contact=ContactStats(),
        opted_out=False,
        segment=SegmentResult("on_time", "test"),
        risk=0.1,
        band="low",
        risk_reason="p=0.10",
        strategy=strategy or STRATEGY.strategy("on_time", "low"),
        hour=SendHour(hour, False, 0),
        sent=sent,
        planned_keys=keys,
    )
