"""The payment sandbox: the pay page, a simulated gateway and its HMAC-signed webhook.

``/pay/{token}`` shows what a debtor would pay (amount, a virtual account number, expiry).
In this sandbox the "Bayar" button plays the payment gateway: it sends the same signed
webhook a real gateway would, to the same handler. ``POST /api/payments/webhook`` accepts a
JSON event signed with ``X-Santun-Signature: sha256=<hex HMAC of the raw body>``; a link is
marked paid exactly once, however often the event is delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from agent import tokens
from agent.config import Settings
from agent.formatting import rupiah, tanggal
from agent.service import ChatService
from agent.storage.payments import PaymentResult
from agent.tools.payments import PAYMENT_TOKEN_KIND

SIGNATURE_HEADER = "X-Santun-Signature"
GATEWAY_AUDIT_SESSION = "gateway"  # audit events that belong to no conversation
_STATUS = {
    "recorded": 200,
    "duplicate": 200,
    "unknown_link": 404,
    "amount_mismatch": 409,
    "expired": 409,
}


class PaymentEvent(BaseModel):
    """A gateway's notification that a payment link was paid."""

    event: str = Field(pattern=r"^payment\.paid$")
    link_id: str = Field(min_length=3, max_length=40)
    amount: int = Field(ge=1)
    reference: str = Field(min_length=3, max_length=64)
    paid_at: datetime


def webhook_key(signing_key: bytes) -> bytes:
    """The webhook's HMAC key, derived from the server key (one secret to manage)."""
    return hmac.new(signing_key, b"santun-payments-webhook", hashlib.sha256).digest()


def sign_body(key: bytes, body: bytes) -> str:
    """The signature header value for a raw body."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def virtual_account(link_id: str, signing_key: bytes) -> str:
    """A stable 16-digit sandbox virtual account number for a link (bank prefix 8808)."""
    digest = hmac.new(signing_key, link_id.encode(), hashlib.sha256).hexdigest()
    return "8808" + str(int(digest[:16], 16))[-12:].rjust(12, "0")


def payment_routes(app: FastAPI, settings: Settings) -> None:
    """Register the pay page, the sandbox gateway and the webhook."""
    signing_key = settings.signing_key()
    hook_key = webhook_key(signing_key)

    @app.get("/pay/{token}", response_class=HTMLResponse)
    async def pay_page(token: str, request: Request) -> HTMLResponse:
        service: ChatService = request.app.state.service
        claims = _claims(service, token)
        if claims is None:
            return _invalid()
        status = service.payments.link_status(str(claims["lid"])) if service.payments else None
        return HTMLResponse(_pay_html(signing_key, token, claims, status))

    @app.post("/pay/{token}/simulate", response_model=None)
    async def simulate(token: str, request: Request) -> Response:
        service: ChatService = request.app.state.service
        claims = _claims(service, token)
        if claims is None:
            return _invalid()
        event = {
            "event": "payment.paid",
            "link_id": claims["lid"],
            "amount": claims["amt"],
            "reference": f"SBX-{claims['lid']}",
            "paid_at": service.clock.now().isoformat(),
        }
        body = json.dumps(event).encode()
        _process(service, hook_key, body, sign_body(hook_key, body))
        return RedirectResponse(f"/pay/{token}", status_code=303)

    @app.post("/api/payments/webhook")
    async def webhook(request: Request) -> JSONResponse:
        service: ChatService = request.app.state.service
        body = await request.body()
        return _process(service, hook_key, body, request.headers.get(SIGNATURE_HEADER, ""))


def _process(service: ChatService, key: bytes, body: bytes, signature: str) -> JSONResponse:
    """Verify, parse and record one webhook delivery."""
    expected = sign_body(key, body)
    if not hmac.compare_digest(expected, signature):
        return JSONResponse({"detail": "invalid signature"}, status_code=401)
    try:
        event = PaymentEvent.model_validate_json(body)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors())
        return JSONResponse({"detail": f"invalid event: {fields}"}, status_code=400)
    if service.payments is None:  # pragma: no cover - the runtime always provides it
        return JSONResponse({"detail": "payments are not configured"}, status_code=503)
    paid_at = event.paid_at if event.paid_at.tzinfo else event.paid_at.replace(tzinfo=UTC)
    result: PaymentResult = service.payments.record(
        event.link_id, event.amount, event.reference, paid_at, service.clock.now()
    )
    if result.outcome == "recorded":
        service.store.append_audit(
            GATEWAY_AUDIT_SESSION,
            "payment_received",
            {"link_id": event.link_id, "amount": event.amount, "reference": event.reference},
            service.clock.now(),
        )
    return JSONResponse({"status": result.outcome}, status_code=_STATUS[result.outcome])


def _claims(service: ChatService, token: str) -> dict[str, Any] | None:
    try:
        return service.verify_token(PAYMENT_TOKEN_KIND, token)
    except tokens.TokenError:
        return None


def _invalid() -> HTMLResponse:
    return HTMLResponse(
        _html(
            "Tautan tidak berlaku",
            "<p>Tautan pembayaran ini tidak valid atau sudah kedaluwarsa. Tidak ada pembayaran "
            "yang diproses. Silakan minta tautan baru melalui percakapan dengan Santun.</p>",
        ),
        status_code=400,
    )


def _pay_html(signing_key: bytes, token: str, claims: dict[str, Any], status: str | None) -> str:
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    link_id = str(claims["lid"])
    rows = [
        ("Jumlah pembayaran", rupiah(int(claims["amt"]))),
        ("Nomor virtual account (sandbox)", virtual_account(link_id, signing_key)),
        ("Berlaku sampai", f"{tanggal(expires.date())} {expires:%H:%M} UTC"),
        ("Nomor tautan", link_id),
    ]
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    if status == "paid":
        action = '<p id="paid" role="status">Pembayaran sudah diterima. Terima kasih.</p>'
    else:
        action = (
            f'<form method="post" action="/pay/{escape(token)}/simulate">'
            '<button id="pay-now" type="submit">Bayar sekarang (simulasi)</button></form>'
            "<p>Ini halaman sandbox: tombol di atas meniru konfirmasi dari gateway pembayaran.</p>"
        )
    return _html("Pembayaran Bank Nusantara", f"<table>{table}</table>{action}")


def _html(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f"{body}</main></body></html>"
    )
