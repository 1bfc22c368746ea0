"""The payment sandbox: pay page, signed webhook exactly once, confirmation in the chat."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.web.app import create_app
from agent.web.payments import SIGNATURE_HEADER, sign_body, webhook_key
from agent.web.security import CONTENT_SECURITY_POLICY


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def say(client: TestClient, sid: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/sessions/{sid}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def link_for_six_months(client: TestClient) -> tuple[str, dict[str, Any]]:
    sid = client.post("/api/sessions", json={}).json()["session_id"]
    assert say(client, sid, "4 digit terakhir 9054, lahir 23 November 1979")["verified"]
    say(client, sid, "bisa dicicil 6 bulan?")
    say(client, sid, "oke saya ambil yang 6 bulan")
    result = say(client, sid, "kirim link pembayarannya")["tool_calls"][0]["result"]
    assert result["ok"] and result["amount"] == 2_145_000
    return sid, result


def path_of(url: str) -> str:
    return url.replace("http://testserver", "")


def deliver(client: TestClient, settings: Settings, event: dict[str, Any]) -> Any:
    body = json.dumps(event).encode()
    signature = sign_body(webhook_key(settings.signing_key()), body)
    return client.post("/api/payments/webhook", content=body, headers={SIGNATURE_HEADER: signature})


def event_for(link: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "event": "payment.paid",
        "link_id": link["link_id"],
        "amount": link["amount"],
        "reference": "GW-0001",
        "paid_at": "2026-11-23T10:05:00+07:00",
        **changes,
    }


def test_pay_in_the_sandbox_and_the_agent_confirms(client: TestClient) -> None:
    sid, link = link_for_six_months(client)
    page = client.get(path_of(link["url"]))
    assert page.status_code == 200
    assert "Rp2.145.000" in page.text and 'id="pay-now"' in page.text
    assert re.search(r"<td>8808\d{12}</td>", page.text)
    paid = client.post(path_of(link["url"]) + "/simulate", follow_redirects=False)
    assert paid.status_code == 303
    after = client.get(path_of(link["url"]))
    assert 'id="paid"' in after.text and 'id="pay-now"' not in after.text
    confirmed = say(client, sid, "sudah saya bayar ya")
    assert "sudah kami terima" in confirmed["reply"] and "Rp2.145.000" in confirmed["reply"]
    assert "Jika Bapak/Ibu sudah membayar" not in confirmed["reply"]  # no contradiction
    again = say(client, sid, "berapa tagihan saya?")
    assert "sudah kami terima" not in again["reply"]  # confirmed once
    assert "Rp10.305.000" in again["reply"]  # 12.450.000 - 2.145.000


def test_webhook_marks_a_link_paid_exactly_once(client: TestClient, settings: Settings) -> None:
    sid, link = link_for_six_months(client)
    first = deliver(client, settings, event_for(link))
    assert first.status_code == 200 and first.json() == {"status": "recorded"}
    replay = deliver(client, settings, event_for(link))
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    other_reference = deliver(client, settings, event_for(link, reference="GW-0002"))
    assert other_reference.json() == {"status": "duplicate"}
    assert "Rp10.305.000" in say(client, sid, "berapa tagihan saya?")["reply"]  # counted once


def test_webhook_refuses_bad_deliveries_and_changes_nothing(
    client: TestClient, settings: Settings
) -> None:
    sid, link = link_for_six_months(client)
    body = json.dumps(event_for(link)).encode()
    forged = client.post(
        "/api/payments/webhook", content=body, headers={SIGNATURE_HEADER: "sha256=" + "0" * 64}
    )
    assert forged.status_code == 401
    unsigned = client.post("/api/payments/webhook", content=body)
    assert unsigned.status_code == 401
    signature = sign_body(webhook_key(settings.signing_key()), body)
    tampered = body.replace(b"2145000", b"1")
    changed = client.post(
        "/api/payments/webhook", content=tampered, headers={SIGNATURE_HEADER: signature}
    )
    assert changed.status_code == 401
    assert deliver(client, settings, event_for(link, amount=1)).status_code == 409
    assert deliver(client, settings, event_for(link, link_id="PL-NOPE0")).status_code == 404
    malformed = deliver(client, settings, {"event": "payment.paid"})
    assert malformed.status_code == 400 and "link_id" in malformed.json()["detail"]
    assert "Rp12.450.000" in say(client, sid, "berapa tagihan saya?")["reply"]  # unchanged
    assert 'id="pay-now"' in client.get(path_of(link["url"])).text


def test_tampered_or_expired_pay_links_change_nothing(client: TestClient) -> None:
    sid, link = link_for_six_months(client)
    url = path_of(link["url"])
    tampered = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    page = client.get(tampered)
    assert page.status_code == 400 and "tidak valid" in page.text
    assert client.post(tampered + "/simulate", follow_redirects=False).status_code == 400
    assert "Rp12.450.000" in say(client, sid, "berapa tagihan saya?")["reply"]


def test_security_headers(client: TestClient) -> None:
    for path in ("/", "/healthz"):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY


def test_cors_allows_only_listed_origins(settings: Settings) -> None:
    allowed = "https://www.banknusantara.example"
    configured = settings.model_copy(update={"cors_origins": [allowed]})
    with TestClient(create_app(configured)) as client:
        preflight = {"Access-Control-Request-Method": "POST"}
        ok = client.options("/api/sessions", headers={"Origin": allowed, **preflight})
        assert ok.headers.get("access-control-allow-origin") == allowed
        evil = client.options(
            "/api/sessions", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in evil.headers
