"""HMAC-signed tokens: session tokens for logged-in pages, and payment-link tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any


class TokenError(ValueError):
    """A token that is malformed, tampered with, of the wrong kind, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, kind: str, claims: dict[str, Any], expires_at: datetime) -> str:
    """Return ``payload.signature`` where the payload carries kind, claims and expiry."""
    body = {"k": kind, "exp": int(expires_at.timestamp()), **claims}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify(key: bytes, kind: str, token: str, now: datetime) -> dict[str, Any]:
    """Check a token's signature, kind and expiry; return its claims.

    Raises:
        TokenError: with an English reason for operators.
    """
    try:
        payload, signature = token.split(".")
        expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise TokenError("bad signature")
        body: dict[str, Any] = json.loads(_unb64(payload))
    except (ValueError, TypeError) as exc:
        if isinstance(exc, TokenError):
            raise
        raise TokenError("malformed token") from exc
    if body.get("k") != kind:
        raise TokenError(f"not a {kind} token")
    if int(body.get("exp", 0)) <= now.timestamp():
        raise TokenError("token expired")
    return body
