"""A signed reply on WhatsApp or SMS continues the conversation in the agent; STOP opts out."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent.config import Settings
from agent.web.app import create_app
from evals.fake_provider import FakeProvider, serve_fake_provider

WA_SECRET = "wa-app-secret"
SMS_SECRET = "sms-webhook-secret"
CC1001_PHONE = "6281200001001"


@dataclass
class World:
    client: TestClient
    provider: FakeProvider

    def answers_to(self, phone: str, channel: str) -> list[str]:
        return [
            r["text"]
            for r in self.provider.received
            if r["to"] == phone and r["channel"] == channel
        ]


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    provider = FakeProvider()
    with serve_fake_provider(provider) as url:
        configured = settings.model_copy(
            update={
                "whatsapp_api_url": url,
                "sms_api_url": url + "/sms",
                "whatsapp_app_secret": SecretStr(WA_SECRET),
                "sms_webhook_secret": SecretStr(SMS_SECRET),
            }
        )
        with TestClient(create_app(configured)) as client:
            yield World(client, provider)


def signed(secret: str, payload: dict[str, Any]) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    return body, "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def whatsapp_reply(world: World, message_id: str, text: str, phone: str = CC1001_PHONE) -> int:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "messages": [
                                {
                                    "from": phone,
                                    "id": message_id,
                                    "timestamp": "1795932000",
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body, signature = signed(WA_SECRET, payload)
    response = world.client.post(
        "/api/outreach/webhooks/whatsapp",
        content=body,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
    )
    return response.status_code


def test_a_whatsapp_reply_continues_the_conversation_with_the_agent(world: World) -> None:
    assert whatsapp_reply(world, "wamid.IN1", "Halo, saya mau cek tagihan saya") == 200
    first = world.answers_to(CC1001_PHONE, "whatsapp")
    assert len(first) == 1
    assert "tanggal lahir" in first[0].lower()  # unverified: the agent asks to verify first
    assert "Rp" not in first[0]

    assert whatsapp_reply(world, "wamid.IN1", "Halo, saya mau cek tagihan saya") == 200
    assert len(world.answers_to(CC1001_PHONE, "whatsapp")) == 1  # a repeated webhook: no new answer

    assert whatsapp_reply(world, "wamid.IN2", "4821, lahir 14 Maret 1988") == 200
    second = world.answers_to(CC1001_PHONE, "whatsapp")
    assert len(second) == 2
    assert "Rp4.180.000" in second[1]  # the same conversation: it remembered the question


def test_a_tampered_webhook_is_refused_and_nothing_is_answered(world: World) -> None:
    body, signature = signed("not-the-secret", {"object": "whatsapp_business_account", "entry": []})
    response = world.client.post(
        "/api/outreach/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": signature}
    )
    assert response.status_code == 401
    assert world.provider.received == []


def test_an_sms_stop_opts_out_on_every_channel(world: World) -> None:
    outreach = world.client.app.state.outreach  # type: ignore[attr-defined]
    assert any(m.account_id == "CC-1003" for m in outreach.plan(7).messages)
    payload = {
        "type": "reply",
        "id": "sms-in-1",
        "from": "+6281200001003",
        "text": "BERHENTI",
        "timestamp": "2026-11-23T10:05:00+08:00",
    }
    body, signature = signed(SMS_SECRET, payload)
    response = world.client.post(
        "/api/outreach/webhooks/sms", content=body, headers={"X-Santun-Signature": signature}
    )
    assert response.status_code == 200
    confirmation = world.answers_to("6281200001003", "sms")
    assert len(confirmation) == 1 and "tidak akan lagi" in confirmation[0]
    plan = outreach.plan(7)
    assert all(m.account_id != "CC-1003" for m in plan.messages)
    assert plan.skipped["CC-1003"] == "opted out of proactive contact"


def test_a_delivery_report_is_recorded_against_its_message(world: World) -> None:
    outreach = world.client.app.state.outreach  # type: ignore[attr-defined]
    outreach.run()  # 10:00 WIB on Monday: CC-1003's SMS reminder (11:00 WITA) goes out
    sent = next(r for r in world.provider.received if r["channel"] == "sms")
    payload = {
        "type": "delivery",
        "reference": sent["key"],
        "id": sent["id"],
        "status": "delivered",
        "timestamp": "2026-11-23T10:01:00+08:00",
    }
    body, signature = signed(SMS_SECRET, payload)
    for _ in range(2):  # providers repeat webhooks
        response = world.client.post(
            "/api/outreach/webhooks/sms", content=body, headers={"X-Santun-Signature": signature}
        )
        assert response.status_code == 200
    delivered = [e for e in outreach.outreach.events(["delivered"]) if e.source == "provider"]
    assert [(e.account_id, e.key) for e in delivered] == [("CC-1003", sent["key"])]


def test_a_whatsapp_thread_is_not_counted_again_as_a_web_chat(world: World) -> None:
    whatsapp_reply(world, "wamid.IN9", "4821, lahir 14 Maret 1988")
    outreach = world.client.app.state.outreach  # type: ignore[attr-defined]
    replies = [e for e in outreach.outreach.events(["reply"]) if e.source != "demo"]
    assert [(e.channel, e.source) for e in replies] == [("whatsapp", "provider")]
