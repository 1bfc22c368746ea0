"""SMS through a generic JSON HTTP provider.

Request: ``POST {sms_api_url}`` with ``{"to": digits, "text": ..., "reference": key}``,
``Authorization: Bearer <key>`` and ``Idempotency-Key``. Response: ``{"id": ...,
"duplicate": bool}``, where ``duplicate`` says the provider had already accepted the key.
"""

from __future__ import annotations

import httpx

from agent.outreach.channels.base import (
    ChannelError,
    ChannelName,
    Delivery,
    OutboundMessage,
    normalise_phone,
)
from agent.outreach.channels.http import json_object, post_json


class SmsChannel:
    """Sends SMS through a provider that de-duplicates by idempotency key."""

    name: ChannelName = "sms"

    def __init__(
        self,
        api_url: str,
        api_key: str | None,
        *,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        """Point the channel at an endpoint.

        Args:
            api_url: The provider's send endpoint.
            api_key: The bearer key (None for an unauthenticated local fake).
            timeout: Seconds per request.
            client: A shared HTTP client; by default each send uses its own.
        """
        self.url = api_url
        self._api_key = api_key
        self._timeout = timeout
        self._client = client

    def send(self, message: OutboundMessage) -> Delivery:
        """Send one SMS.

        Raises:
            ChannelError: When the provider refuses it or cannot be reached.
        """
        try:
            to = normalise_phone(message.address)
        except ValueError as exc:
            raise ChannelError(str(exc), retryable=False) from exc
        body = {"to": to, "text": message.text, "reference": message.key}
        response = post_json(
            self._client,
            self.url,
            body,
            key=message.key,
            token=self._api_key,
            timeout=self._timeout,
        )
        data = json_object(response)
        provider_id = data.get("id")
        if not isinstance(provider_id, str) or not provider_id:
            raise ChannelError(f"{self.url} answered without a message id", retryable=False)
        return Delivery(provider_id=provider_id, duplicate=data.get("duplicate") is True)
