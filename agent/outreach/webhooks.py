"""Delivery reports and replies from providers: signature checks and parsing, nothing else.

* WhatsApp (Cloud API) signs the raw body with the app secret:
  ``X-Hub-Signature-256: sha256=<hex>``.
* The SMS provider and the inbound-mail relay sign it with their webhook secret:
  ``X-Santun-Signature: sha256=<hex>`` (as the payment webhook does).

A secret left unset is derived from the server's signing key, so a demo has one secret to
manage. Parsers turn a decoded JSON payload into :class:`ChannelEvent` values and raise
:class:`WebhookError` with a readable reason when the payload is malformed.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any, Literal

from pydantic import SecretStr

from agent.config import Settings
from agent.outreach.channels.base import ChannelEvent, EventKind, normalise_phone

HUB_SIGNATURE_HEADER = "X-Hub-Signature-256"
SANTUN_SIGNATURE_HEADER = "X-Santun-Signature"
WebhookSource = Literal["whatsapp", "sms", "email"]
_WHATSAPP_STATUS: dict[str, EventKind] = {
    "delivered": "delivered",
    "read": "read",
    "failed": "undelivered",
}
_SMS_STATUS: dict[str, EventKind] = {"delivered": "delivered", "failed": "undelivered"}
_LABELS: dict[str, bytes] = {
    "whatsapp": b"santun-whatsapp-webhook",
    "sms": b"santun-sms-webhook",
    "email": b"santun-email-webhook",
    "whatsapp-verify": b"santun-whatsapp-verify-token",
}


class WebhookError(ValueError):
    """A webhook payload that cannot be understood."""


def sign(body: bytes, secret: bytes) -> str:
    """The ``sha256=<hex>`` signature of a raw body (both header styles use it)."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_hub_signature(body: bytes, header: str | None, app_secret: bytes) -> bool:
    """Check WhatsApp's ``X-Hub-Signature-256`` header against the raw body."""
    return header is not None and hmac.compare_digest(sign(body, app_secret), header.strip())


def verify_santun_signature(body: bytes, header: str | None, key: bytes) -> bool:
    """Check an ``X-Santun-Signature`` header against the raw body."""
    return header is not None and hmac.compare_digest(sign(body, key), header.strip())


def webhook_secret(settings: Settings, source: WebhookSource) -> bytes:
    """The secret that signs ``source``'s webhooks: the setting, else one derived."""
    configured: dict[str, SecretStr | None] = {
        "whatsapp": settings.whatsapp_app_secret,
        "sms": settings.sms_webhook_secret,
        "email": settings.email_webhook_secret,
    }
    value = configured[source]
    if value is not None:
        return value.get_secret_value().encode()
    return _derived(settings, source).digest()


def whatsapp_verify_token(settings: Settings) -> str:
    """The token that answers WhatsApp's subscription check: the setting, else one derived."""
    if settings.whatsapp_verify_token is not None:
        return settings.whatsapp_verify_token.get_secret_value()
    return _derived(settings, "whatsapp-verify").hexdigest()


def _derived(settings: Settings, label: str) -> hmac.HMAC:
    return hmac.new(settings.signing_key(), _LABELS[label], hashlib.sha256)


def parse_whatsapp(payload: Any) -> list[ChannelEvent]:
    """Events of a Cloud API webhook (``object: whatsapp_business_account``).

    Incoming messages become ``reply`` events (``event_id`` is the message id; for a
    reply to one of ours, ``provider_id`` is the id it answers). Statuses ``delivered``,
    ``read`` and ``failed`` become ``delivered``, ``read`` and ``undelivered`` with our key
    from ``biz_opaque_callback_data``; ``sent`` and unknown statuses are skipped. Changes
    of other fields are ignored.

    Raises:
        WebhookError: If the payload is not of that shape.
    """
    root = _object(payload, "payload")
    if root.get("object") != "whatsapp_business_account":
        raise WebhookError("payload.object must be 'whatsapp_business_account'")
    events: list[ChannelEvent] = []
    for e, entry in enumerate(_list(root.get("entry"), "payload.entry")):
        changes = _list(_object(entry, f"entry[{e}]").get("changes"), f"entry[{e}].changes")
        for c, change in enumerate(changes):
            where = f"entry[{e}].changes[{c}]"
            events += _wa_change(_object(change, where), where)
    return events


def _wa_change(change: dict[str, Any], where: str) -> list[ChannelEvent]:
    """The events of one change of field ``messages``; other fields carry none."""
    if change.get("field") != "messages":
        return []
    value = _object(change.get("value"), f"{where}.value")
    messages = _list(value.get("messages", []), f"{where}.value.messages")
    statuses = _list(value.get("statuses", []), f"{where}.value.statuses")
    events = [_wa_message(m, f"{where}.value.messages[{i}]") for i, m in enumerate(messages)]
    for i, raw in enumerate(statuses):
        status = _wa_status(raw, f"{where}.value.statuses[{i}]")
        if status is not None:
            events.append(status)
    return events


def _wa_message(raw: Any, where: str) -> ChannelEvent:
    message = _object(raw, where)
    replied_to = _part(message, "context").get("id")
    return ChannelEvent(
        kind="reply",
        channel="whatsapp",
        at=_time(message.get("timestamp"), f"{where}.timestamp"),
        provider_id=replied_to if isinstance(replied_to, str) else None,
        address=_phone(message.get("from"), f"{where}.from"),
        text=_wa_text(message),
        event_id=_string(message.get("id"), f"{where}.id"),
    )


def _wa_text(message: dict[str, Any]) -> str | None:
    """The words of a text or quick-reply button message; None for media and the like."""
    kind = message.get("type")
    body: Any = None
    if kind == "text":
        body = _part(message, "text").get("body")
    elif kind == "button":
        body = _part(message, "button").get("text")
    elif kind == "interactive":
        interactive = _part(message, "interactive")
        choice = _part(interactive, "button_reply") or _part(interactive, "list_reply")
        body = choice.get("title")
    return body if isinstance(body, str) else None


def _part(value: dict[str, Any], name: str) -> dict[str, Any]:
    """An optional nested object; anything else counts as absent."""
    part = value.get(name)
    return part if isinstance(part, dict) else {}


def _wa_status(raw: Any, where: str) -> ChannelEvent | None:
    status = _object(raw, where)
    name = _string(status.get("status"), f"{where}.status")
    kind = _WHATSAPP_STATUS.get(name)
    if kind is None:
        return None
    message_id = _string(status.get("id"), f"{where}.id")
    key = status.get("biz_opaque_callback_data")
    recipient = status.get("recipient_id")
    return ChannelEvent(
        kind=kind,
        channel="whatsapp",
        at=_time(status.get("timestamp"), f"{where}.timestamp"),
        key=key if isinstance(key, str) and key else None,
        provider_id=message_id,
        address=_phone(recipient, f"{where}.recipient_id") if recipient is not None else None,
        event_id=f"{message_id}:{name}",
    )


def parse_sms(payload: Any) -> list[ChannelEvent]:
    """The event of an SMS provider webhook.

    ``{"type": "delivery", "reference", "id", "status": "delivered"|"failed",
    "timestamp"}`` or ``{"type": "reply", "id", "from", "text", "timestamp"}``;
    ``timestamp`` is ISO 8601 or Unix seconds.

    Raises:
        WebhookError: If the payload is not of either shape.
    """
    event = _object(payload, "payload")
    at = _time(event.get("timestamp"), "timestamp")
    provider_id = _string(event.get("id"), "id")
    if event.get("type") == "delivery":
        status = _string(event.get("status"), "status")
        if status not in _SMS_STATUS:
            raise WebhookError("status must be 'delivered' or 'failed'")
        return [
            ChannelEvent(
                kind=_SMS_STATUS[status],
                channel="sms",
                at=at,
                key=_string(event.get("reference"), "reference"),
                provider_id=provider_id,
                event_id=f"{provider_id}:{status}",
            )
        ]
    if event.get("type") == "reply":
        return [
            ChannelEvent(
                kind="reply",
                channel="sms",
                at=at,
                address=_phone(event.get("from"), "from"),
                text=_string(event.get("text"), "text", allow_empty=True),
                event_id=provider_id,
            )
        ]
    raise WebhookError("type must be 'delivery' or 'reply'")


def parse_email(payload: Any) -> list[ChannelEvent]:
    """The reply event of an inbound e-mail relayed as JSON.

    ``{"id": Message-ID, "from", "subject", "text", "in_reply_to"?, "timestamp"}``;
    ``provider_id`` is ``in_reply_to``, the Message-ID of our e-mail it answers.

    Raises:
        WebhookError: If the payload is not of that shape.
    """
    mail = _object(payload, "payload")
    address = parseaddr(_string(mail.get("from"), "from"))[1].strip().lower()
    if "@" not in address:
        raise WebhookError("from must contain an e-mail address")
    in_reply_to = mail.get("in_reply_to")
    if in_reply_to is not None and not isinstance(in_reply_to, str):
        raise WebhookError("in_reply_to must be a string")
    return [
        ChannelEvent(
            kind="reply",
            channel="email",
            at=_time(mail.get("timestamp"), "timestamp"),
            provider_id=in_reply_to.strip() if in_reply_to else None,
            address=address,
            text=_string(mail.get("text"), "text", allow_empty=True),
            event_id=_string(mail.get("id"), "id"),
        )
    ]


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WebhookError(f"{where} must be a JSON object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise WebhookError(f"{where} must be a list")
    return value


def _string(value: Any, where: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or not (value or allow_empty):
        raise WebhookError(f"{where} must be a non-empty string")
    return value


def _phone(value: Any, where: str) -> str:
    try:
        return normalise_phone(_string(value, where))
    except ValueError as exc:
        raise WebhookError(f"{where} must be a phone number") from exc


def _time(value: Any, where: str) -> datetime:
    """An aware time from Unix seconds (number or digits) or ISO 8601 (naive = UTC)."""
    if isinstance(value, bool):
        raise WebhookError(f"{where} must be Unix seconds or an ISO 8601 time")
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise WebhookError(f"{where} must be Unix seconds or an ISO 8601 time")
