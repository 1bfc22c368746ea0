from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from agent.clock import FixedClock
from agent.config import Settings
from agent.outreach.channels import (
    ChannelError,
    EmailChannel,
    OutboundMessage,
    SandboxChannel,
    SmsChannel,
    WebInbox,
    WhatsAppChannel,
    build_channels,
    normalise_phone,
)
from agent.outreach.channels.email import KEY_HEADER, message_id
from agent.outreach.channels.web import InboxRow
from evals.fake_provider import (
    FakeProvider,
    read_log,
    serve_fake_provider,
    serve_fake_provider_process,
)

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
SENDER = "Bank Nusantara <pengingat@banknusantara.example>"
TEXT = "Bapak Andi, tagihan Rp12.450.000 jatuh tempo 28 November 2026. Terima kasih 🙏 — Santun"
PHONE = "+62 812-0000-1001"


def _message(key: str = "k-1", channel: Any = "whatsapp", address: str = PHONE, **kw: Any):
    return OutboundMessage(
        key=key, account_id="CC-1001", channel=channel, address=address, text=TEXT, **kw
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "digits"),
    [("+62 812-0000-1001", "6281200001001"), ("0812 0000 1001", "6281200001001"), ("6281", "6281")],
)
def test_normalise_phone(raw: str, digits: str) -> None:
    assert normalise_phone(raw) == digits


def test_normalise_phone_rejects_no_digits() -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        normalise_phone("n/a")


# --- e-mail -------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps every message, or refuses as told."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.data_reply = "250 OK"
        self.rcpt_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply.startswith("250"):
            self.envelopes.append(envelope)
        return self.data_reply

    def parsed(self, index: int = -1) -> email.message.EmailMessage:
        content = self.envelopes[index].original_content
        return email.message_from_bytes(content, policy=email.policy.default)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"rahasia", handled=False)

    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    handler.logins = logins  # type: ignore[attr-defined]
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def _email(port: int, **kw: Any) -> EmailChannel:
    return EmailChannel("127.0.0.1", port, SENDER, timeout=5, clock=FixedClock(NOW), **kw)


def test_email_is_delivered_with_headers_and_intact_text(mailbox) -> None:
    box, port = mailbox
    message = _message(channel="email", address="andi.pratama@example.com", subject="Pengingat")
    delivery = _email(port).send(message)
    mail = box.parsed()
    assert box.envelopes[0].rcpt_tos == ["andi.pratama@example.com"]
    assert mail["From"] == SENDER
    assert mail["To"] == "andi.pratama@example.com"
    assert mail["Subject"] == "Pengingat"
    assert mail[KEY_HEADER] == "k-1"
    assert mail["Message-ID"] == delivery.provider_id == message_id("k-1", SENDER)
    assert mail["Message-ID"].endswith("@banknusantara.example>")
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content().replace("\r\n", "\n") == TEXT + "\n"
    assert delivery.duplicate is False


def test_email_message_id_is_stable_per_key(mailbox) -> None:
    # SMTP cannot refuse a repeat: the outbox avoids resending, and the same Message-ID lets
    # mail clients collapse a repeat that still happens.
    box, port = mailbox
    channel = _email(port)
    first = channel.send(_message(channel="email", address="a@example.com"))
    again = channel.send(_message(channel="email", address="a@example.com"))
    other = channel.send(_message(key="k-2", channel="email", address="a@example.com"))
    assert first.provider_id == again.provider_id != other.provider_id
    assert [box.parsed(i)["Message-ID"] for i in range(3)] == [
        first.provider_id,
        first.provider_id,
        other.provider_id,
    ]


def test_email_logs_in_when_configured(mailbox) -> None:
    box, port = mailbox
    _email(port, username="santun", password="rahasia").send(
        _message(channel="email", address="a@example.com")
    )
    assert box.logins == [(b"santun", b"rahasia")]
    with pytest.raises(ChannelError) as refused:
        _email(port, username="santun", password="salah").send(
            _message(channel="email", address="a@example.com")
        )
    assert refused.value.retryable is False


@pytest.mark.parametrize(
    ("where", "reply", "retryable"),
    [
        ("data", "451 4.3.0 Try again later", True),
        ("data", "554 5.7.1 Rejected", False),
        ("rcpt", "450 4.2.1 Mailbox busy", True),
        ("rcpt", "550 5.1.1 No such user", False),
    ],
)
def test_email_errors_are_sorted_by_smtp_code(mailbox, where: str, reply: str, retryable: bool):
    box, port = mailbox
    if where == "data":
        box.data_reply = reply
    else:
        box.rcpt_reply = reply
    with pytest.raises(ChannelError) as failed:
        _email(port).send(_message(channel="email", address="a@example.com"))
    assert failed.value.retryable is retryable
    assert box.envelopes == []


def test_email_unreachable_server_is_retryable() -> None:
    with pytest.raises(ChannelError) as failed:
        _email(_free_port()).send(_message(channel="email", address="a@example.com"))
    assert failed.value.retryable is True


# --- WhatsApp and SMS against the fake provider -------------------------------------------


@pytest.fixture
def provider() -> Iterator[tuple[FakeProvider, str]]:
    fake = FakeProvider(token="wa-token", sms_api_key="sms-key")
    with serve_fake_provider(fake) as url:
        yield fake, url


def _whatsapp(url: str, token: str = "wa-token") -> WhatsAppChannel:
    return WhatsAppChannel(url, "santun-demo", token, timeout=5)


def _sms(url: str, key: str = "sms-key") -> SmsChannel:
    return SmsChannel(f"{url}/sms", key, timeout=5)


def test_whatsapp_sends_the_cloud_api_text_message(provider) -> None:
    fake, url = provider
    delivery = _whatsapp(url).send(_message())
    request = fake.requests[0]
    assert request["path"] == "/santun-demo/messages"
    assert request["headers"]["authorization"] == "Bearer wa-token"
    assert request["headers"]["idempotency-key"] == "k-1"
    assert request["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281200001001",
        "type": "text",
        "text": {"preview_url": False, "body": TEXT},
        "biz_opaque_callback_data": "k-1",
    }
    assert fake.received == [
        {
            "channel": "whatsapp",
            "to": "6281200001001",
            "text": TEXT,
            "key": "k-1",
            "id": "wamid.FAKE1",
        }
    ]
    assert delivery.provider_id == "wamid.FAKE1" and delivery.duplicate is False


def test_sms_sends_the_generic_shape(provider) -> None:
    fake, url = provider
    delivery = _sms(url).send(_message(channel="sms"))
    request = fake.requests[0]
    assert request["path"] == "/sms"
    assert request["headers"]["authorization"] == "Bearer sms-key"
    assert request["headers"]["idempotency-key"] == "k-1"
    assert request["body"] == {"to": "6281200001001", "text": TEXT, "reference": "k-1"}
    assert delivery.provider_id == "sms-1" and delivery.duplicate is False
    assert [m["text"] for m in fake.received] == [TEXT]


@pytest.mark.parametrize("channel", ["whatsapp", "sms"])
def test_a_repeated_key_is_shown_once(provider, channel: str) -> None:
    fake, url = provider
    sender = _whatsapp(url) if channel == "whatsapp" else _sms(url)
    first = sender.send(_message(channel=channel))
    again = sender.send(_message(channel=channel))
    assert again.provider_id == first.provider_id
    assert again.duplicate is True
    assert len(fake.requests) == 2 and len(fake.received) == 1


@pytest.mark.parametrize("channel", ["whatsapp", "sms"])
def test_a_lost_answer_is_retried_without_a_second_message(provider, channel: str) -> None:
    fake, url = provider
    sender = _whatsapp(url) if channel == "whatsapp" else _sms(url)
    fake.fail_next(1, 502, accept=True)
    with pytest.raises(ChannelError) as lost:
        sender.send(_message(channel=channel))
    assert lost.value.retryable is True
    retried = sender.send(_message(channel=channel))
    assert retried.duplicate is True
    assert retried.provider_id == fake.received[0]["id"]
    assert len(fake.received) == 1


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(429, True), (500, True), (503, True), (400, False), (403, False), (404, False)],
)
@pytest.mark.parametrize("channel", ["whatsapp", "sms"])
def test_http_errors_are_sorted(provider, channel: str, status: int, retryable: bool) -> None:
    fake, url = provider
    sender = _whatsapp(url) if channel == "whatsapp" else _sms(url)
    fake.fail_next(1, status)
    with pytest.raises(ChannelError) as failed:
        sender.send(_message(channel=channel))
    assert failed.value.retryable is retryable
    assert str(status) in str(failed.value)
    assert fake.received == []
    assert sender.send(_message(channel=channel)).duplicate is False  # the fault has passed


def test_bad_credentials_and_bad_numbers_are_not_retryable(provider) -> None:
    fake, url = provider
    for sender in (_whatsapp(url, token="wrong"), _sms(url, key="wrong")):
        with pytest.raises(ChannelError) as refused:
            sender.send(_message())
        assert refused.value.retryable is False
    with pytest.raises(ChannelError) as bad_number:
        _whatsapp(url).send(_message(address="tidak ada"))
    assert bad_number.value.retryable is False
    assert fake.received == []


@pytest.mark.parametrize("channel", ["whatsapp", "sms"])
def test_an_unreachable_provider_is_retryable(channel: str) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    sender = _whatsapp(url) if channel == "whatsapp" else _sms(url)
    with pytest.raises(ChannelError) as failed:
        sender.send(_message(channel=channel))
    assert failed.value.retryable is True


def test_provider_process_logs_deliveries_and_remembers_keys(tmp_path: Path) -> None:
    log = tmp_path / "delivered.jsonl"
    with serve_fake_provider_process(log) as url:
        first = SmsChannel(f"{url}/sms", None, timeout=5).send(_message(channel="sms"))
    assert read_log(log) == [
        {
            "channel": "sms",
            "to": "6281200001001",
            "text": TEXT,
            "key": "k-1",
            "id": first.provider_id,
        }
    ]
    with serve_fake_provider_process(log) as url:  # a restarted provider still de-duplicates
        again = SmsChannel(f"{url}/sms", None, timeout=5).send(_message(channel="sms"))
    assert again.duplicate is True and again.provider_id == first.provider_id
    assert len(read_log(log)) == 1


# --- web inbox ----------------------------------------------------------------------------


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    InboxRow.metadata.create_all(engine, tables=[InboxRow.__table__])  # type: ignore[list-item]
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def test_web_inbox_stores_each_key_once(factory) -> None:
    inbox = WebInbox(factory, FixedClock(NOW))
    first = inbox.send(_message(channel="web", address="CC-1001"))
    again = inbox.send(_message(channel="web", address="CC-1001"))
    assert again == type(first)(provider_id=first.provider_id, duplicate=True)
    unread = inbox.unread("CC-1001")
    assert [(item.key, item.text, item.created_at) for item in unread] == [("k-1", TEXT, NOW)]
    assert inbox.unread("CC-2002") == []


def test_web_inbox_marks_read(factory) -> None:
    inbox = WebInbox(factory, FixedClock(NOW))
    for key in ("k-1", "k-2"):
        inbox.send(_message(key=key, channel="web", address="CC-1001"))
    inbox.send(OutboundMessage("k-3", "CC-2002", "web", "CC-2002", "lain"))
    first, second = inbox.unread("CC-1001")
    other = inbox.unread("CC-2002")[0]
    later = NOW + timedelta(minutes=5)
    assert inbox.mark_read("CC-1001", [first.id, other.id], later) == 1
    assert [item.key for item in inbox.unread("CC-1001")] == ["k-2"]
    assert [item.key for item in inbox.unread("CC-2002")] == ["k-3"]  # not theirs to read
    assert inbox.mark_read("CC-1001", [first.id], later) == 0
    assert inbox.mark_read("CC-1001", [], later) == 0


# --- sandbox and factory ------------------------------------------------------------------


def test_sandbox_writes_each_key_once_across_restarts(tmp_path: Path) -> None:
    first = SandboxChannel("sms", tmp_path, clock=FixedClock(NOW))
    sent = first.send(_message(channel="sms"))
    assert first.send(_message(channel="sms")).duplicate is True
    restarted = SandboxChannel("sms", tmp_path)
    again = restarted.send(_message(channel="sms"))
    assert again.duplicate is True and again.provider_id == sent.provider_id
    assert restarted.send(_message(key="k-2", channel="sms")).duplicate is False
    assert [r["key"] for r in read_log(tmp_path / "sms.jsonl")] == ["k-1", "k-2"]
    assert read_log(tmp_path / "sms.jsonl")[0]["text"] == TEXT


def test_sandbox_survives_a_torn_last_line(tmp_path: Path) -> None:
    (tmp_path / "whatsapp.jsonl").write_text('{"key": "k-1", "te')  # crashed mid-write
    sandbox = SandboxChannel("whatsapp", tmp_path)
    assert sandbox.send(_message()).duplicate is False  # the torn record never counted
    assert sandbox.send(_message()).duplicate is True
    assert [r["key"] for r in read_log(tmp_path / "whatsapp.jsonl")] == ["k-1"]


def test_build_channels_uses_sandboxes_without_endpoints(settings: Settings, factory) -> None:
    channels = build_channels(settings, factory, FixedClock(NOW))
    assert isinstance(channels["web"], WebInbox)
    for name in ("email", "whatsapp", "sms"):
        channel = channels[name]
        assert isinstance(channel, SandboxChannel) and channel.name == name
        assert channel.path == settings.data_dir / "outbox" / f"{name}.jsonl"


def test_build_channels_uses_configured_endpoints(settings: Settings, factory) -> None:
    configured = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "whatsapp_api_url": "http://127.0.0.1:9/v21.0",
            "sms_api_url": "http://127.0.0.1:9/sms",
        }
    )
    channels = build_channels(configured, factory, FixedClock(NOW))
    assert isinstance(channels["email"], EmailChannel)
    assert isinstance(channels["whatsapp"], WhatsAppChannel)
    assert channels["whatsapp"].url == "http://127.0.0.1:9/v21.0/santun-demo/messages"
    assert isinstance(channels["sms"], SmsChannel)
    assert {name: channel.name for name, channel in channels.items()} == {
        "web": "web",
        "email": "email",
        "whatsapp": "whatsapp",
        "sms": "sms",
    }
