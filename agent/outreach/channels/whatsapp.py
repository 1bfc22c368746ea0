"""WhatsApp through the WhatsApp Business Cloud API (or anything speaking its format)."""

from __future__ import annotations

from typing import Any

import httpx

from agent.outreach.channels.base import (
    ChannelError,
    ChannelName,
    Delivery,
    OutboundMessage,
    normalise_phone,
)
from agent.outreach.channels.http import json_object, post_json

# The Stripe-style header a provider sets when it answers a repeated idempotency key.
REPLAYED_HEADER = "Idempotent-Replayed"


def text_message(to: str, text: str, key: str) -> dict[str, Any]:
    """The Cloud API body of a plain text message; the key comes back in status webhooks."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": text},
        "biz_opaque_callback_data": key,
    }


class WhatsAppChannel:
    """Sends text messages with ``POST {api_url}/{phone_number_id}/messages``.

    The Cloud API itself does not de-duplicate; the key travels as ``Idempotency-Key``
    for gateways that do, and as ``biz_opaque_callback_data`` so delivery webhooks name it.
    """

    name: ChannelName = "whatsapp"

    def __init__(
        self,
        api_url: str,
        phone_number_id: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        """Point the channel at an endpoint.

        Args:
            api_url: The Graph API base, e.g. ``https://graph.facebook.com/v21.0``.
            phone_number_id: The sending business phone number's id.
            token: The bearer access token (None for an unauthenticated local fake).
            timeout: Seconds per request.
            client: A shared HTTP client; by default each send uses its own.
        """
        self.url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self._token = token
        self._timeout = timeout
        self._client = client

    def send(self, message: OutboundMessage) -> Delivery:
        """Send one text message.

        Raises:
            ChannelError: When the API refuses it or cannot be reached.
        """
        try:
            to = normalise_phone(message.address)
        except ValueError as exc:
            raise ChannelError(str(exc), retryable=False) from exc
        response = post_json(
            self._client,
            self.url,
            text_message(to, message.text, message.key),
            key=message.key,
            token=self._token,
            timeout=self._timeout,
        )
        messages = json_object(response).get("messages")
        if not (isinstance(messages, list) and messages and isinstance(messages[0], dict)):
            raise ChannelError(f"{self.url} answered without a message id", retryable=False)
        provider_id = messages[0].get("id")
        if not isinstance(provider_id, str) or not provider_id:
            raise ChannelError(f"{self.url} answered without a message id", retryable=False)
        replayed = response.headers.get(REPLAYED_HEADER, "").lower() == "true"
        return Delivery(provider_id=provider_id, duplicate=replayed)
