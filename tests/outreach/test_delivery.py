"""Reminders reach real protocol endpoints: SMTP (aiosmtpd), WhatsApp Cloud API and SMS."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from agent.config import Settings
from agent.outreach.service import OutreachService, build_outreach
from agent.portfolio import load_portfolio
from agent.storage.database import init_database, make_engine
from agent.storage.repository import Store
from evals.fake_provider import FakeProvider, serve_fake_provider
from tests.outreach.conftest import MovableClock


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


@pytest.fixture
def provider() -> Iterator[tuple[FakeProvider, str]]:
    fake = FakeProvider(token="wa-token", sms_api_key="sms-key")
    with serve_fake_provider(fake) as url:
        yield fake, url


def service_for(settings: Settings, clock: MovableClock) -> tuple[OutreachService, Any]:
    engine = make_engine(settings.resolved_database_url())
    store = Store(init_database(engine, load_portfolio()))
    return build_outreach(settings, store, clock=clock), engine


def test_email_reminder_is_delivered_over_smtp(
    settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    configured = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    clock = MovableClock(datetime.fromisoformat("2026-11-26T10:30:00+09:00"))
    service, engine = service_for(configured, clock)
    try:
        report = service.run().report
    finally:
        engine.dispose()
    to_cc1004 = [m for m in box.messages if m["To"] == "dewi.lestari@example.com"]
    assert report.sent >= 1 and len(to_cc1004) == 1, [m["To"] for m in box.messages]
    message = to_cc1004[0]
    body = message.get_content()
    assert "Bank Nusantara" in message["From"] and message["Subject"]
    assert "Bapak/Ibu" in body and "BERHENTI" in body and "Rp" not in body
    assert message["X-Santun-Idempotency-Key"] == "CC-1004:after_due:2026-11-26"


def test_whatsapp_and_sms_reminders_reach_the_provider_in_its_format(
    settings: Settings, provider: tuple[FakeProvider, str]
) -> None:
    fake, url = provider
    configured = settings.model_copy(
        update={
            "whatsapp_api_url": url,
            "whatsapp_token": SecretStr("wa-token"),
            "sms_api_url": url + "/sms",
            "sms_api_key": SecretStr("sms-key"),
        }
    )
    clock = MovableClock(datetime.fromisoformat("2026-11-26T10:30:00+07:00"))
    service, engine = service_for(configured, clock)
    try:
        service.run()
        clock.at = datetime.fromisoformat("2026-11-27T10:30:00+08:00")  # CC-1003: SMS, WITA
        service.run()
        service.run()  # nothing new
    finally:
        engine.dispose()
    whatsapp = [r for r in fake.received if r["channel"] == "whatsapp"]
    sms = [r for r in fake.received if r["channel"] == "sms"]
    assert {r["to"] for r in whatsapp} >= {"6281200001005", "6281200002001"}
    assert [r["to"] for r in sms] == ["6281200001003"]
    request = next(r for r in fake.requests if r["path"].endswith("/messages"))
    body = request["body"]
    assert body["messaging_product"] == "whatsapp" and body["type"] == "text"
    assert body["recipient_type"] == "individual" and body["text"]["body"]
    assert body["biz_opaque_callback_data"] == request["headers"]["idempotency-key"]
    assert len(sms[0]["text"]) <= 160
    keys = [r["key"] for r in fake.received]
    assert len(keys) == len(set(keys))
