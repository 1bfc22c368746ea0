"""Builds the four channels from the settings: real where configured, a sandbox otherwise."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from agent.clock import Clock
from agent.config import Settings
from agent.outreach.channels.base import Channel, ChannelName
from agent.outreach.channels.email import EmailChannel
from agent.outreach.channels.sandbox import SandboxChannel
from agent.outreach.channels.sms import SmsChannel
from agent.outreach.channels.web import WebInbox
from agent.outreach.channels.whatsapp import WhatsAppChannel


def build_channels(
    settings: Settings, factory: sessionmaker[Session], clock: Clock
) -> dict[ChannelName, Channel]:
    """One channel per name.

    E-mail needs ``smtp_host``, WhatsApp ``whatsapp_api_url`` and SMS ``sms_api_url``;
    without it the channel is a :class:`SandboxChannel` writing to
    ``{data_dir}/outbox/{name}.jsonl``, so a demo never reaches a real person. The web
    channel is always the widget inbox in the database.
    """
    outbox = settings.data_dir / "outbox"
    timeout = settings.channel_timeout
    email: Channel = SandboxChannel("email", outbox, clock=clock)
    if settings.smtp_host:
        email = EmailChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            username=settings.smtp_username,
            password=_secret(settings.smtp_password),
            starttls=settings.smtp_starttls,
            timeout=timeout,
            clock=clock,
        )
    whatsapp: Channel = SandboxChannel("whatsapp", outbox, clock=clock)
    if settings.whatsapp_api_url:
        whatsapp = WhatsAppChannel(
            settings.whatsapp_api_url,
            settings.whatsapp_phone_number_id,
            _secret(settings.whatsapp_token),
            timeout=timeout,
        )
    sms: Channel = SandboxChannel("sms", outbox, clock=clock)
    if settings.sms_api_url:
        sms = SmsChannel(settings.sms_api_url, _secret(settings.sms_api_key), timeout=timeout)
    return {"web": WebInbox(factory, clock), "email": email, "whatsapp": whatsapp, "sms": sms}


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
