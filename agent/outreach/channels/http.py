"""One JSON POST to a provider, with its failures sorted into retryable or not."""

from __future__ import annotations

from typing import Any

import httpx

from agent.outreach.channels.base import IDEMPOTENCY_HEADER, ChannelError

# Statuses worth retrying: a timeout, a rate limit, "too early"; every 5xx is as well.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


def post_json(
    client: httpx.Client | None,
    url: str,
    body: dict[str, Any],
    *,
    key: str,
    token: str | None,
    timeout: float,
) -> httpx.Response:
    """POST ``body`` with a bearer token and the idempotency key; return a 2xx response.

    Args:
        client: A shared client, or None for a short-lived one per call.
        url: The endpoint.
        body: The JSON body.
        key: The message's idempotency key, sent as ``Idempotency-Key``.
        token: The bearer token, if the provider needs one.
        timeout: Seconds for the whole exchange.

    Raises:
        ChannelError: On a network error (retryable), a 408/425/429/5xx answer
            (retryable), an unusable URL or any other non-2xx answer (not retryable).
    """
    headers = {IDEMPOTENCY_HEADER: key, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        if client is not None:
            response = client.post(url, json=body, headers=headers, timeout=timeout)
        else:
            with httpx.Client(timeout=timeout, follow_redirects=False) as own:
                response = own.post(url, json=body, headers=headers)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise ChannelError(f"{url}: {exc}", retryable=False) from exc
    except httpx.HTTPError as exc:
        raise ChannelError(f"{url}: {type(exc).__name__}: {exc}", retryable=True) from exc
    if response.is_success:
        return response
    status = response.status_code
    retryable = status in RETRYABLE_STATUSES or status >= 500
    raise ChannelError(f"{url} answered {status}: {response.text[:200]}", retryable=retryable)


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The response body as a JSON object.

    Raises:
        ChannelError: (not retryable) If the body is not a JSON object; the endpoint is
            probably misconfigured, and retrying would not help.
    """
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ChannelError(
            f"{response.request.url} answered {response.status_code} without a JSON object",
            retryable=False,
        )
    return data
