from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent.config import Settings
from agent.outreach.channels.base import ChannelEvent
from agent.outreach.webhooks import (
    HUB_SIGNATURE_HEADER,
    SANTUN_SIGNATURE_HEADER,
    WebhookError,
    parse_email,
    parse_sms,
    parse_whatsapp,
    sign,
    verify_hub_signature,
    verify_santun_signature,
    webhook_secret,
    whatsapp_verify_token,
)
from agent.web.outreach import router
from agent.web.payments import webhook_key

AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
STAMP = str(int(AT.timestamp()))


def _whatsapp(value: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    change = {"field": field, "value": {"messaging_product": "whatsapp", **value}}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


def _status(status: str, message_id: str = "wamid.FAKE1") -> dict[str, Any]:
    return {
        "id": message_id,
        "status": status,
        "timestamp": STAMP,
        "recipient_id": "6281200001001",
        "biz_opaque_callback_data": "k-1",
    }


REPLY = {
    "from": "6281200001001",
    "id": "wamid.IN1",
    "timestamp": STAMP,
    "type": "text",
    "text": {"body": "Saya bisa bayar tanggal 28, terima kasih"},
    "context": {"from": "santun", "id": "wamid.FAKE1"},
}
SMS_DELIVERY = {
    "type": "delivery",
    "reference": "k-2",
    "id": "sms-1",
    "status": "failed",
    "timestamp": AT.isoformat(),
}
SMS_REPLY = {
    "type": "reply",
    "id": "in-9",
    "from": "+62 812-0000-1002",
    "text": "STOP",
    "timestamp": 1795402800,
}
EMAIL_REPLY = {
    "id": "<abc@mail.example.com>",
    "from": "Andi Pratama <Andi.Pratama@Example.com>",
    "subject": "Re: Pengingat",
    "text": "Mohon kirim rincian tagihan.",
    "in_reply_to": "<0123@banknusantara.example>",
    "timestamp": "2026-11-23T10:00:00+07:00",
}


# --- signatures -----------------------------------------------------------------------------


def test_hub_signature_matches_the_raw_body() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    header = sign(body, b"app-secret")
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_hub_signature(body, header, b"app-secret")
    assert not verify_hub_signature(body + b" ", header, b"app-secret")
    assert not verify_hub_signature(body, header, b"other-secret")
    assert not verify_hub_signature(body, None, b"app-secret")
    assert not verify_hub_signature(body, header.removeprefix("sha256="), b"app-secret")


def test_santun_signature_matches_the_raw_body() -> None:
    body = json.dumps(SMS_DELIVERY).encode()
    assert verify_santun_signature(body, sign(body, b"k"), b"k")
    assert not verify_santun_signature(
        body.replace(b"failed", b"delivered"), sign(body, b"k"), b"k"
    )
    assert not verify_santun_signature(body, "", b"k")


def test_secrets_are_derived_per_source_unless_configured(settings: Settings) -> None:
    derived = {source: webhook_secret(settings, source) for source in ("whatsapp", "sms", "email")}
    assert len(set(derived.values())) == 3
    assert webhook_key(settings.signing_key()) not in derived.values()
    configured = settings.model_copy(update={"sms_webhook_secret": SecretStr("sms-rahasia")})
    assert webhook_secret(configured, "sms") == b"sms-rahasia"
    assert webhook_secret(configured, "email") == derived["email"]
    assert whatsapp_verify_token(settings) == whatsapp_verify_token(settings)
    assert len(whatsapp_verify_token(settings)) == 64


# --- parsing --------------------------------------------------------------------------------


def test_whatsapp_statuses_become_delivery_events() -> None:
    payload = _whatsapp({"statuses": [_status(s) for s in ("sent", "delivered", "read", "failed")]})
    events = parse_whatsapp(payload)
    assert [e.kind for e in events] == ["delivered", "read", "undelivered"]  # "sent" says nothing
    assert events[0] == ChannelEvent(
        kind="delivered",
        channel="whatsapp",
        at=AT,
        key="k-1",
        provider_id="wamid.FAKE1",
        address="6281200001001",
        event_id="wamid.FAKE1:delivered",
    )


def test_whatsapp_messages_become_replies() -> None:
    payload = _whatsapp({"messages": [REPLY, {**REPLY, "id": "wamid.IN2", "type": "image"}]})
    payload["entry"][0]["changes"].append({"field": "account_update", "value": {"x": 1}})
    first, image = parse_whatsapp(payload)
    assert first == ChannelEvent(
        kind="reply",
        channel="whatsapp",
        at=AT,
        provider_id="wamid.FAKE1",
        address="6281200001001",
        text="Saya bisa bayar tanggal 28, terima kasih",
        event_id="wamid.IN1",
    )
    assert image.kind == "reply" and image.text is None and image.event_id == "wamid.IN2"


def test_sms_delivery_and_reply() -> None:
    (failed,) = parse_sms(SMS_DELIVERY)
    assert (failed.kind, failed.key, failed.provider_id, failed.at) == (
        "undelivered",
        "k-2",
        "sms-1",
        AT,
    )
    assert failed.event_id == "sms-1:failed"
    (reply,) = parse_sms(SMS_REPLY)
    assert (reply.kind, reply.address, reply.text, reply.event_id) == (
        "reply",
        "6281200001002",
        "STOP",
        "in-9",
    )
    assert reply.at == datetime.fromtimestamp(1795402800, UTC)


def test_email_reply() -> None:
    (reply,) = parse_email(EMAIL_REPLY)
    assert reply == ChannelEvent(
        kind="reply",
        channel="email",
        at=AT,
        provider_id="<0123@banknusantara.example>",
        address="andi.pratama@example.com",
        text="Mohon kirim rincian tagihan.",
        event_id="<abc@mail.example.com>",
    )
    assert (
        parse_email({k: v for k, v in EMAIL_REPLY.items() if k != "in_reply_to"})[0].provider_id
        is None
    )


@pytest.mark.parametrize(
    ("parse", "payload", "message"),
    [
        (parse_whatsapp, [], "payload must be a JSON object"),
        (parse_whatsapp, {"object": "page", "entry": []}, "whatsapp_business_account"),
        (parse_whatsapp, {"object": "whatsapp_business_account"}, "payload.entry must be a list"),
        (parse_whatsapp, _whatsapp({"statuses": [{"status": "read"}]}), "statuses[0].id"),
        (parse_whatsapp, _whatsapp({"messages": [{**REPLY, "from": "x"}]}), "from must be a phone"),
        (parse_whatsapp, _whatsapp({"messages": [{**REPLY, "timestamp": "kemarin"}]}), "timestamp"),
        (parse_sms, {"type": "bounce", "id": "1", "timestamp": STAMP}, "type must be"),
        (parse_sms, {**SMS_DELIVERY, "status": "queued"}, "status must be"),
        (parse_sms, {**SMS_DELIVERY, "reference": None}, "reference must be"),
        (parse_sms, {**SMS_REPLY, "timestamp": True}, "timestamp must be"),
        (parse_email, {**EMAIL_REPLY, "from": "bukan alamat"}, "from must contain"),
        (parse_email, {**EMAIL_REPLY, "id": ""}, "id must be a non-empty string"),
        (parse_email, {**EMAIL_REPLY, "in_reply_to": 5}, "in_reply_to must be a string"),
    ],
)
def test_malformed_payloads_say_why(parse, payload, message: str) -> None:
    with pytest.raises(WebhookError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(payload)


# --- routes ---------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[ChannelEvent] = []

    async def handle_event(self, event: ChannelEvent) -> None:
        self.events.append(event)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.settings = settings.model_copy(
        update={
            "whatsapp_app_secret": SecretStr("app-secret"),
            "whatsapp_verify_token": SecretStr("verify-me"),
        }
    )
    app.state.outreach_events = Recorder()
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _post(client: TestClient, source: str, payload: Any, secret: bytes, header: str, **kw: Any):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = kw.pop("signature", sign(body, secret))
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers[header] = signature
    return client.post(f"/api/outreach/webhooks/{source}", content=body, headers=headers)


def test_signed_whatsapp_webhook_reaches_the_handler(client: TestClient, app: FastAPI) -> None:
    payload = _whatsapp({"statuses": [_status("delivered")], "messages": [REPLY]})
    response = _post(client, "whatsapp", payload, b"app-secret", HUB_SIGNATURE_HEADER)
    assert response.status_code == 200 and response.json() == {"received": 2}
    assert [(e.kind, e.key, e.event_id) for e in app.state.outreach_events.events] == [
        ("reply", None, "wamid.IN1"),
        ("delivered", "k-1", "wamid.FAKE1:delivered"),
    ]


@pytest.mark.parametrize(("source", "payload"), [("sms", SMS_DELIVERY), ("email", EMAIL_REPLY)])
def test_signed_santun_webhooks_reach_the_handler(client, app, settings, source, payload) -> None:
    secret = webhook_secret(settings, source)  # derived: no secret configured
    response = _post(client, source, payload, secret, SANTUN_SIGNATURE_HEADER)
    assert response.status_code == 200 and response.json() == {"received": 1}
    (event,) = app.state.outreach_events.events
    assert event.channel == source


@pytest.mark.parametrize(
    ("source", "header", "secret"),
    [
        ("whatsapp", HUB_SIGNATURE_HEADER, b"app-secret"),
        ("sms", SANTUN_SIGNATURE_HEADER, None),
        ("email", SANTUN_SIGNATURE_HEADER, None),
    ],
)
def test_unsigned_or_tampered_webhooks_are_refused(client, app, settings, source, header, secret):
    secret = secret or webhook_secret(settings, source)
    payload = {"whatsapp": _whatsapp({"statuses": [_status("read")]}), "sms": SMS_REPLY}
    body = json.dumps(payload.get(source, EMAIL_REPLY)).encode()
    tampered = body.replace(b"}", b', "x": 1}', 1)
    missing = _post(client, source, body, secret, header, signature=None)
    forged = _post(client, source, tampered, secret, header, signature=sign(body, secret))
    wrong_key = _post(client, source, body, b"guess", header)
    santun_style_for_hub = _post(client, source, body, secret, "X-Other-Signature")
    for response in (missing, forged, wrong_key, santun_style_for_hub):
        assert response.status_code == 401
        assert response.json() == {"detail": "invalid signature"}
    assert app.state.outreach_events.events == []
    assert _post(client, source, body, secret, header).status_code == 200  # the control


def test_malformed_signed_payloads_are_400(client: TestClient, app: FastAPI, settings) -> None:
    secret = webhook_secret(settings, "sms")
    not_json = _post(client, "sms", b"{not json", secret, SANTUN_SIGNATURE_HEADER)
    assert not_json.status_code == 400 and not_json.json() == {"detail": "body is not valid JSON"}
    bad = _post(
        client, "sms", {**SMS_DELIVERY, "status": "queued"}, secret, SANTUN_SIGNATURE_HEADER
    )
    assert bad.status_code == 400
    assert bad.json() == {"detail": "status must be 'delivered' or 'failed'"}
    assert app.state.outreach_events.events == []


def test_without_a_handler_the_webhooks_answer_503(client: TestClient, app: FastAPI) -> None:
    del app.state.outreach_events
    response = _post(client, "whatsapp", _whatsapp({}), b"app-secret", HUB_SIGNATURE_HEADER)
    assert response.status_code == 503


@pytest.mark.parametrize(
    ("params", "status"),
    [
        (
            {
                "hub.mode": "subscribe",
                "hub.verify_token": "verify-me",
                "hub.challenge": "1158201444",
            },
            200,
        ),
        (
            {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"},
            403,
        ),
        ({"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"}, 403),
        ({"hub.mode": "subscribe", "hub.challenge": "1158201444"}, 403),
        ({"hub.mode": "subscribe", "hub.verify_token": "verify-me"}, 403),
    ],
)
def test_whatsapp_subscription_check(
    client: TestClient, params: dict[str, str], status: int
) -> None:
    response = client.get("/api/outreach/webhooks/whatsapp", params=params)
    assert response.status_code == status
    if status == 200:
        assert response.text == "1158201444"
        assert response.headers["content-type"].startswith("text/plain")
