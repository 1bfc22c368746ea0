"""Outbound channels behind one interface: web inbox, e-mail, WhatsApp and SMS."""

from agent.outreach.channels.base import (
    CHANNEL_NAMES,
    Channel,
    ChannelError,
    ChannelEvent,
    ChannelName,
    Delivery,
    EventHandler,
    OutboundMessage,
    normalise_phone,
)
from agent.outreach.channels.email import EmailChannel
from agent.outreach.channels.factory import build_channels
from agent.outreach.channels.sandbox import SandboxChannel
from agent.outreach.channels.sms import SmsChannel
from agent.outreach.channels.web import InboxItem, WebInbox
from agent.outreach.channels.whatsapp import WhatsAppChannel

__all__ = [
    "CHANNEL_NAMES",
    "Channel",
    "ChannelError",
    "ChannelEvent",
    "ChannelName",
    "Delivery",
    "EmailChannel",
    "EventHandler",
    "InboxItem",
    "OutboundMessage",
    "SandboxChannel",
    "SmsChannel",
    "WebInbox",
    "WhatsAppChannel",
    "build_channels",
    "normalise_phone",
]
