"""The HTTP contract of DESIGN.md, through the real app and its lifespan."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.web.app import create_app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def new_session(client: TestClient, body: dict[str, str] | None = None) -> str:
    response = client.post("/api/sessions", json=body or {})
    assert response.status_code == 200
    assert "Santun" in response.json()["reply"]
    return str(response.json()["session_id"])


def say(client: TestClient, sid: str, text: str, **extra: str) -> dict:
    response = client.post(f"/api/sessions/{sid}/messages", json={"text": text, **extra})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200


def test_done_when_flow_over_http(client: TestClient) -> None:
    sid = new_session(client)
    first = say(client, sid, "saya mau cek tagihan")
    assert set(first) == {"reply", "verified", "tool_calls", "citations", "guardrail", "handoff"}
    assert not first["verified"] and not re.search(r"Rp\s?\d", first["reply"])
    assert say(client, sid, "4 digit terakhir 9054, lahir 23 November 1979")["verified"]
    assert "Rp12.450.000" in say(client, sid, "berapa tagihan saya?")["reply"]
    assert "Rp2.145.000" in say(client, sid, "bisa dicicil 6 bulan?")["reply"]
    say(client, sid, "oke saya ambil yang 6 bulan")
    link = say(client, sid, "kirim link pembayarannya")
    url = link["tool_calls"][0]["result"]["url"]
    assert [c["name"] for c in link["tool_calls"]] == ["create_payment_link"]
    page = client.get(url.replace("http://testserver", ""))
    assert page.status_code == 200 and "Rp2.145.000" in page.text
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert client.get(tampered.replace("http://testserver", "")).status_code == 400
    assert link["guardrail"] == {"drafts_blocked": 0, "violations": []}


def test_token_session(client: TestClient, settings: Settings) -> None:
    token = client.app.state.service.mint_session_token("CC-1003")  # type: ignore[attr-defined]
    sid = new_session(client, {"auth_token": token})
    assert say(client, sid, "tagihan saya berapa")["verified"]
    bad = client.post("/api/sessions", json={"auth_token": "nope"})
    assert bad.status_code == 401 and "Token" in bad.json()["detail"]


def test_errors(client: TestClient) -> None:
    assert client.post("/api/sessions/unknown/messages", json={"text": "halo"}).status_code == 404
    sid = new_session(client)
    assert client.post(f"/api/sessions/{sid}/messages", json={"txt": "halo"}).status_code == 422
    assert client.post(f"/api/sessions/{sid}/messages", content=b"{not json").status_code == 422
    big = client.post(f"/api/sessions/{sid}/messages", json={"text": "a" * 70_000})
    assert big.status_code == 413
    long = say(client, sid, "b" * 4001)
    assert "terlalu panjang" in long["reply"]


def test_idempotent_client_message_id(client: TestClient) -> None:
    sid = new_session(client)
    first = say(client, sid, "halo", client_message_id="abc")
    assert say(client, sid, "halo", client_message_id="abc") == first


def test_rate_limit_per_session(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_session_per_minute": 2})
    with TestClient(create_app(limited)) as client:
        sid = new_session(client)
        say(client, sid, "halo")
        say(client, sid, "halo lagi")
        response = client.post(f"/api/sessions/{sid}/messages", json={"text": "halo"})
        assert response.status_code == 429 and "Mohon maaf" in response.json()["detail"]


def test_conversation_survives_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        sid = new_session(client)
        say(client, sid, "saya mau cek tagihan")
        say(client, sid, "4 digit terakhir 9054, lahir 23 November 1979")
    with TestClient(create_app(settings)) as client:
        answer = say(client, sid, "berapa tagihan saya?")
        assert answer["verified"] and "Rp12.450.000" in answer["reply"]
