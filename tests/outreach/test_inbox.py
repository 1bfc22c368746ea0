"""The web inbox: a verified debtor sees their own reminders in the widget, once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.outreach.channels.base import OutboundMessage
from agent.web.app import create_app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def leave_reminder(client: TestClient, account_id: str, text: str) -> None:
    inbox = client.app.state.outreach.sender.channels["web"]  # type: ignore[attr-defined]
    inbox.send(OutboundMessage(f"{account_id}:test", account_id, "web", account_id, text))


def session_for(client: TestClient, account_id: str | None) -> str:
    body = {}
    if account_id:
        service = client.app.state.service  # type: ignore[attr-defined]
        body = {"auth_token": service.mint_session_token(account_id)}
    return str(client.post("/api/sessions", json=body).json()["session_id"])


def test_verified_debtor_gets_their_reminder_once(client: TestClient) -> None:
    leave_reminder(client, "CC-1007", "Bapak/Ibu Agus Wijaya, pengingat dari Bank Nusantara.")
    session = session_for(client, "CC-1007")
    first = client.get(f"/api/sessions/{session}/inbox").json()["messages"]
    assert [m["text"] for m in first] == ["Bapak/Ibu Agus Wijaya, pengingat dari Bank Nusantara."]
    assert client.get(f"/api/sessions/{session}/inbox").json()["messages"] == []


def test_nobody_else_sees_a_reminder(client: TestClient) -> None:
    leave_reminder(client, "CC-1007", "Pengingat untuk CC-1007.")
    unverified = session_for(client, None)
    assert client.get(f"/api/sessions/{unverified}/inbox").json()["messages"] == []
    other = session_for(client, "CC-1001")
    assert client.get(f"/api/sessions/{other}/inbox").json()["messages"] == []
    assert client.get("/api/sessions/nope/inbox").status_code == 404


def test_verifying_in_chat_opens_the_inbox(client: TestClient) -> None:
    leave_reminder(client, "CC-1001", "Pengingat untuk Andi.")
    session = session_for(client, None)
    answer = client.post(
        f"/api/sessions/{session}/messages", json={"text": "4821, lahir 14 Maret 1988"}
    ).json()
    assert answer["verified"] is True
    messages = client.get(f"/api/sessions/{session}/inbox").json()["messages"]
    assert [m["text"] for m in messages] == ["Pengingat untuk Andi."]


def test_a_verified_web_chat_counts_as_a_reply_once_a_day(client: TestClient) -> None:
    outreach = client.app.state.outreach  # type: ignore[attr-defined]
    session = session_for(client, "CC-1002")
    for text in ("berapa tagihan saya?", "kapan jatuh temponya?"):
        client.post(f"/api/sessions/{session}/messages", json={"text": text})
    replies = [e for e in outreach.outreach.events(["reply"]) if e.source == "chat"]
    assert [(e.account_id, e.channel) for e in replies] == [("CC-1002", "web")]
    unverified = session_for(client, None)
    client.post(f"/api/sessions/{unverified}/messages", json={"text": "halo"})
    assert len([e for e in outreach.outreach.events(["reply"]) if e.source == "chat"]) == 1
