"""The one interface every outbound channel implements, and the events channels report.

A channel sends one already-approved message and says what the provider answered. Every
message carries an idempotency key that stays the same across retries: delivery is
at-least-once and the receiving side de-duplicates by key, so a retry after a crash never
shows a debtor the same message twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

ChannelName = Literal["web", "email", "whatsapp", "sms"]
CHANNEL_NAMES: tuple[ChannelName, ...] = ("web", "email", "whatsapp", "sms")
EventKind = Literal["delivered", "undelivered", "read", "reply"]
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one debtor on one channel.

    Attributes:
        key: The idempotency key, stable across retries of the same message.
        account_id: The debtor's account.
        channel: Where the message goes.
        address: A phone number as in the portfolio (``+62 812-0000-1001``), an e-mail
            address, or the account id for the web inbox.
        text: The message, already approved by the guardrail.
        subject: The e-mail subject; other channels ignore it.
    """

    key: str
    account_id: str
    channel: ChannelName
    address: str
    text: str
    subject: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What the provider answered when it accepted a message.

    Attributes:
        provider_id: The provider's id of the message.
        duplicate: The provider had already accepted this key; nothing new was shown.
    """

    provider_id: str
    duplicate: bool = False


class ChannelError(Exception):
    """A message could not be handed to the provider.

    Attributes:
        retryable: Sending the same message again later may succeed (timeouts, rate limits,
            provider outages); False when it never will (a bad address, bad credentials).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        """Describe the failure and whether a retry may help."""
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    """An outbound channel: sends one message, synchronously."""

    name: ChannelName

    def send(self, message: OutboundMessage) -> Delivery:
        """Hand the message to the provider.

        Raises:
            ChannelError: When the provider did not accept it.
        """
        ...


@dataclass(frozen=True)
class ChannelEvent:
    """A delivery report or a reply that a provider sent back through a webhook.

    Attributes:
        kind: ``delivered``, ``undelivered``, ``read`` or ``reply``.
        channel: The channel it came through.
        at: When it happened, timezone-aware.
        key: Our idempotency key, when the provider echoes it.
        provider_id: The provider's message id (for an e-mail reply: the Message-ID it
            answers).
        address: Who replied or was written to (phone digits or e-mail address).
        text: The reply's text.
        event_id: The provider's id of the event, for de-duplicating repeated webhooks.
    """

    kind: EventKind
    channel: ChannelName
    at: datetime
    key: str | None = None
    provider_id: str | None = None
    address: str | None = None
    text: str | None = None
    event_id: str | None = None


class EventHandler(Protocol):
    """Receives every event the webhooks parse (``app.state.outreach_events``)."""

    async def handle_event(self, event: ChannelEvent) -> None:
        """Record one event; the same event may arrive more than once."""
        ...


def normalise_phone(phone: str) -> str:
    """Digits in international form, as WhatsApp and SMS providers expect.

    ``"+62 812-0000-1001"`` and ``"0812-0000-1001"`` both become ``"6281200001001"``.

    Raises:
        ValueError: If the number has no digits.
    """
    digits = re.sub(r"\D", "", phone)
    if not digits:
        raise ValueError(f"not a phone number: {phone!r}")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits
