"""The outreach dashboard in the console, through the real app, over seeded outreach data."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.outreach.charts import bar_chart, stacked_chart
from agent.outreach.dashboard import build_dashboard, refusal_group
from agent.storage.models import PaymentLinkRow, PromiseRow
from agent.storage.outreach import OutboxRow
from agent.storage.payments import PaymentBook
from agent.web.app import create_app
from agent.web.console_outreach import outreach_console_routes
from tests.agent.test_console import PASSWORD, sign_in

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # the settings fixture's pinned clock
EXPERIMENT = "tone-2026-12"
CHART_TITLES = (
    "Debtors by segment",
    "Debtors by risk band",
    "Messages by channel and status",
    "Sent messages by local hour of day",
    "Queued messages by day",
    "Contact-window and cap refusals",
    "Promises to pay",
    f"Experiment {EXPERIMENT}: reply rate by arm",
)
REFUSALS = (
    "before 08:00 local time",
    "from 20:00 local time",
    "from 20:00 local time",
    "Sunday (no outbound contact)",
    "national holiday (Hari Natal)",
    "daily cap of 2 reached",
    "weekly cap of 6 reached",
)


def dashboard_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    if not any(getattr(r, "path", None) == "/console/outreach" for r in app.routes):
        outreach_console_routes(app, settings)  # until app.py registers the routes itself
    return app


def message(key: str, account: str, channel: str, zone: str, **values: Any) -> OutboxRow:
    fields: dict[str, Any] = {
        "key": key,
        "account_id": account,
        "channel": channel,
        "stage": "before_due",
        "family": "ramah",
        "segment": "procrastinator",
        "risk": 0.2,
        "band": "medium",
        "reason": "test",
        "experiment_id": None,
        "arm_id": None,
        "offer_human": False,
        "timezone": zone,
        "send_at": NOW,
        "status": "queued",
        "attempts": 0,
        "created_at": NOW - timedelta(days=5),
        "updated_at": NOW - timedelta(days=5),
    }
    return OutboxRow(**(fields | values))


def sent(at: datetime, **values: Any) -> dict[str, Any]:
    return {"status": "sent", "send_at": at, "sent_at": at, "updated_at": at} | values


DAY = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 09:00 in Jakarta, 10:00 in Makassar


def seed(app: FastAPI) -> None:
    """Outbox rows, refusals, promise reports, one promise and one payment, all in the period."""
    seed_outbox(app.state.outreach.outreach)
    seed_events(app.state.outreach.outreach)
    seed_money(app.state.service.store.factory)


def seed_outbox(outreach: Any) -> None:
    exposure = {"experiment_id": EXPERIMENT}
    rows = [
        message(
            "t:1", "CC-1001", "whatsapp", "Asia/Jakarta", **sent(DAY), **exposure, arm_id="kontrol"
        ),
        message(
            "t:2", "CC-1003", "whatsapp", "Asia/Makassar", **sent(DAY), **exposure, arm_id="hangat"
        ),
        message("t:3", "CC-1010", "sms", "Asia/Jayapura", **sent(DAY + timedelta(hours=3))),
        message("t:4", "CC-1002", "email", "Asia/Jakarta", send_at=NOW + timedelta(hours=21)),
        message("t:5", "CC-1005", "email", "Asia/Jakarta", send_at=NOW + timedelta(hours=22)),
        message("t:6", "CC-1005", "sms", "Asia/Jakarta", send_at=NOW + timedelta(days=2)),
        message("t:7", "CC-1001", "sms", "Asia/Jakarta", status="blocked", updated_at=DAY),
        message("t:old", "CC-1001", "sms", "Asia/Jakarta", **sent(NOW - timedelta(days=60))),
    ]
    assert outreach.enqueue(rows) == len(rows)


def seed_events(outreach: Any) -> None:
    for index, reason in enumerate(REFUSALS):
        at = NOW - timedelta(days=1, minutes=index)
        outreach.record_event("CC-1002", "refused", at, source="sender", detail={"reason": reason})
    outreach.record_event("CC-1003", "reply", DAY + timedelta(days=1), source="test")
    outreach.record_event("CC-1002", "promise_kept", DAY, source="test")
    for account in ("CC-1003", "CC-1010"):
        outreach.record_event(account, "promise_broken", DAY, source="test")


def seed_money(factory: Any) -> None:
    promise = {"amount": 500_000, "promised_date": NOW.date(), "recorded_at": DAY, "status": "open"}
    link = {"amount": 1_250_000, "token": "t", "created_at": DAY, "status": "open"}
    with factory.begin() as db:
        db.add(PromiseRow(account_id="CC-1001", **promise))
        expires = DAY + timedelta(days=1)
        db.add(PaymentLinkRow(link_id="lnk-test", account_id="CC-1002", expires_at=expires, **link))
    paid = PaymentBook(factory).record("lnk-test", 1_250_000, "PAY-TEST", DAY, DAY)
    assert paid.outcome == "recorded"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(dashboard_app(settings), follow_redirects=False) as test_client:
        app: Any = test_client.app
        store, now = app.state.service.console, app.state.service.clock.now()
        for username, role in (("cora", "compliance"), ("agus", "agent"), ("adi", "admin")):
            store.add_operator(username, role, PASSWORD, username.title(), now)
        yield test_client


def board_json(client: TestClient, days: int = 30) -> dict[str, Any]:
    response = client.get("/console/outreach.json", params={"days": days})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_dashboard_shows_every_chart_with_the_seeded_numbers(client: TestClient) -> None:
    sign_in(client, "cora")
    before = board_json(client)
    seed(client.app)  # type: ignore[arg-type]
    page = client.get("/console/outreach")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for title in CHART_TITLES:
        assert f">{title}</title>" in text, title
    assert "<script" not in page.text.lower() and "style=" not in page.text.lower()
    assert "style-src 'self'" in page.headers["content-security-policy"]
    assert 'href="/console/static/outreach.css"' in page.text
    assert client.get("/console/static/outreach.css").status_code == 200
    tile = re.compile(r'id="total-(\w+)">([^<]*)<')
    tiles = dict(tile.findall(text))
    assert tiles["sent"] == "3" and tiles["queued"] == "3" and tiles["refusals"] == "7"
    assert "Rp1.250.000" in tiles["payments"]
    # the same UTC moment is 09:00 in Jakarta and 10:00 in Makassar: two different columns
    assert "09 · whatsapp: 1 messages" in text and "10 · whatsapp: 1 messages" in text
    assert "14 · sms: 1 messages" in text  # 05:00 UTC is 14:00 in Jayapura
    assert "outside hours: 3 refusals" in text and "weekly cap: 1 refusals" in text
    assert "24 November 2026: 2 messages" in text and "25 November 2026: 1 messages" in text
    assert "CC-1003" in text and "inconsistent_payer" in text  # the debtor table
    after = board_json(client)
    assert after["promises"]["made"] == before["promises"]["made"] + 1
    assert after["promises"]["kept"] == before["promises"]["kept"] + 1
    assert after["promises"]["broken"] == before["promises"]["broken"] + 2
    assert after["payments"] == {
        "count": before["payments"]["count"] + 1,
        "total": before["payments"]["total"] + 1_250_000,
    }


def test_json_matches_the_seeded_data(client: TestClient) -> None:
    seed(client.app)  # type: ignore[arg-type]
    sign_in(client, "adi")
    board = board_json(client)
    assert board["days"] == 30
    status = board["messages_by_channel_status"]
    assert status["whatsapp"]["sent"] == 2 and status["sms"]["sent"] == 1  # t:old is too old
    assert status["email"]["queued"] == 2 and status["sms"]["queued"] == 1
    assert status["sms"]["blocked"] == 1
    hours = board["sent_by_local_hour"]
    assert hours["whatsapp"]["09"] == 1 and hours["whatsapp"]["10"] == 1
    assert hours["sms"]["14"] == 1 and sum(hours["sms"].values()) == 1
    assert board["queued_by_day"] == {"2026-11-24": 2, "2026-11-25": 1}
    assert board["refusals"] == {
        "outside hours": 3,
        "Sunday": 1,
        "national holiday": 1,
        "daily cap": 1,
        "weekly cap": 1,
    }
    assert (
        sum(board["segments"].values())
        == len(board["debtors"])
        == sum(board["risk_bands"].values())
    )
    first = board["debtors"][0]
    assert {"account_id", "segment", "reason", "band", "probability", "features"} <= set(first)
    assert first["features"] and {"name", "contribution"} <= set(first["features"][0])
    [experiment] = [e for e in board["experiments"] if e["experiment_id"] == EXPERIMENT]
    reply = next(o for o in experiment["outcomes"] if o["outcome"] == "reply")
    arms = {arm["arm_id"]: (arm["successes"], arm["n"]) for arm in reply["arms"]}
    assert arms == {"kontrol": (0, 1), "hangat": (1, 1)}
    longer = board_json(client, days=90)
    assert longer["messages_by_channel_status"]["sms"]["sent"] == 2  # now t:old counts
    access = client.app.state.service.console.access_log()  # type: ignore[attr-defined]
    assert [r["action"] for r in access[:2]] == ["api_view_outreach", "api_view_outreach"]
    assert access[0]["operator"] == "adi"


def test_only_signed_in_reviewers_see_it(client: TestClient) -> None:
    assert client.get("/console/outreach").headers["location"] == "/console/login"
    assert client.get("/console/outreach.json").status_code == 401
    sign_in(client, "agus")  # collection agents work the handoff queue only
    assert client.get("/console/outreach").status_code == 403
    assert client.get("/console/outreach.json").status_code == 403
    sign_in(client, "adi")
    assert client.get("/console/outreach").status_code == 200
    assert client.get("/console/outreach?days=0").status_code == 400
    assert client.get("/console/outreach.json?days=abc").status_code == 400
    assert client.get("/console/outreach.json?days=367").status_code == 400


def test_answers_503_without_outreach(client: TestClient) -> None:
    sign_in(client, "cora")
    del client.app.state.outreach  # type: ignore[attr-defined]
    assert client.get("/console/outreach").status_code == 503
    assert client.get("/console/outreach.json").status_code == 503


def test_build_dashboard_refuses_a_bad_period(client: TestClient) -> None:
    app: Any = client.app
    with pytest.raises(ValueError, match="days"):
        build_dashboard(app.state.outreach, app.state.service.store.factory, days=0)


@pytest.mark.parametrize(
    ("reason", "group"),
    [
        ("before 06:00 local time", "outside hours"),
        ("from 21:00 local time", "outside hours"),
        ("Sunday (no outbound contact)", "Sunday"),
        ("national holiday (Hari Raya Idul Fitri)", "national holiday"),
        ("daily cap of 2 reached", "daily cap"),
        ("weekly cap of 6 reached", "weekly cap"),
        ("", "other"),
    ],
)
def test_refusal_groups(reason: str, group: str) -> None:
    assert refusal_group(reason) == group


def test_charts_escape_labels_and_carry_a_data_table() -> None:
    chart = str(bar_chart([("<script>alert(1)</script>", 3), ("b", float("nan"))], "A & B", "x"))
    assert "<script>" not in chart and "&lt;script&gt;" in chart
    assert 'role="img"' in chart and "<title id=" in chart and "A &amp; B" in chart
    assert '<table class="visually-hidden">' in chart and "<td>3</td>" in chart
    stacked = str(stacked_chart(["00", "01"], [("web", [1, 0]), ("sms", [2, 5])], "S", "m"))
    assert "<td>3</td>" in stacked and "<td>5</td>" in stacked  # per-column totals
    with pytest.raises(ValueError, match="one value per category"):
        stacked_chart(["00"], [("web", [1, 2])], "S")
    assert "No data in this period." in str(bar_chart([], "Empty"))
