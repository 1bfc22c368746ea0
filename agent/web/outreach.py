"""Webhooks through which providers report deliveries and relay replies.

``GET /api/outreach/webhooks/whatsapp`` answers WhatsApp's subscription check; the three
``POST`` routes read the raw body, check its signature (401), parse it (400), hand each
event to ``app.state.outreach_events`` and answer ``{"received": n}``. Providers deliver
webhooks at least once; the handler de-duplicates by ``event_id``. Without
``app.state.settings`` or ``app.state.outreach_events`` the routes answer 503, which
providers retry.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from agent.config import Settings
from agent.outreach.channels.base import ChannelEvent, EventHandler
from agent.outreach.webhooks import (
    HUB_SIGNATURE_HEADER,
    SANTUN_SIGNATURE_HEADER,
    WebhookError,
    WebhookSource,
    parse_email,
    parse_sms,
    parse_whatsapp,
    verify_hub_signature,
    verify_santun_signature,
    webhook_secret,
    whatsapp_verify_token,
)

Verifier = Callable[[bytes, str | None, bytes], bool]
Parser = Callable[[Any], list[ChannelEvent]]

router = APIRouter(prefix="/api/outreach/webhooks", tags=["outreach"])


@router.get("/whatsapp", response_model=None)
async def whatsapp_subscription(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=256)] = None,
) -> Response:
    """Echo ``hub.challenge`` when ``hub.verify_token`` is ours; 403 otherwise."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    if settings is None:
        return _unavailable()
    expected = whatsapp_verify_token(settings).encode()
    if (
        mode == "subscribe"
        and token is not None
        and challenge
        and hmac.compare_digest(token.encode(), expected)
    ):
        return PlainTextResponse(challenge)
    return JSONResponse({"detail": "verification failed"}, status_code=403)


@router.post("/whatsapp")
async def whatsapp_events(request: Request) -> JSONResponse:
    """Statuses and incoming messages from the WhatsApp Cloud API."""
    return await _receive(
        request, "whatsapp", HUB_SIGNATURE_HEADER, verify_hub_signature, parse_whatsapp
    )


@router.post("/sms")
async def sms_events(request: Request) -> JSONResponse:
    """Delivery reports and replies from the SMS provider."""
    return await _receive(
        request, "sms", SANTUN_SIGNATURE_HEADER, verify_santun_signature, parse_sms
    )


@router.post("/email")
async def email_events(request: Request) -> JSONResponse:
    """Replies relayed by the inbound-mail service."""
    return await _receive(
        request, "email", SANTUN_SIGNATURE_HEADER, verify_santun_signature, parse_email
    )


async def _receive(
    request: Request, source: WebhookSource, header: str, verify: Verifier, parse: Parser
) -> JSONResponse:
    """Verify, parse and hand over one webhook delivery."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    handler: EventHandler | None = getattr(request.app.state, "outreach_events", None)
    if settings is None or handler is None:
        return _unavailable()
    body = await request.body()
    if not verify(body, request.headers.get(header), webhook_secret(settings, source)):
        return JSONResponse({"detail": "invalid signature"}, status_code=401)
    try:
        payload = json.loads(body)
    except ValueError:
        return JSONResponse({"detail": "body is not valid JSON"}, status_code=400)
    try:
        events = parse(payload)
    except WebhookError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    for event in events:
        await handler.handle_event(event)
    return JSONResponse({"received": len(events)})


def _unavailable() -> JSONResponse:
    return JSONResponse({"detail": "outreach is not configured"}, status_code=503)
