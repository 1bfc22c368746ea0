"""The one seam to the model: ``AsyncOpenAI`` with bounded retries inside a turn's deadline.

Every failure mode of a model call -- timeout, 429 (Retry-After honoured), 5xx, connection
refused or dropped, malformed tool-call JSON, empty content, a refusal -- is retried with
exponential backoff and full jitter, never past the turn's deadline; then ``ModelUnavailable``
tells the engine to let the offline engine answer. Each retry is recorded as an event.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import openai
from openai import AsyncOpenAI

MIN_CALL_SECONDS = 0.05  # below this much budget left, a call is not worth starting
BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0


class ModelUnavailable(Exception):
    """The model gave no usable answer within the retries and the turn's budget."""

    def __init__(self, reason: str, events: list[dict[str, Any]] | None = None) -> None:
        """Carry a short machine-readable reason (``timeout``, ``status_429``, ...)."""
        super().__init__(reason)
        self.reason = reason
        self.events = events or []


class _Unusable(Exception):
    """A response arrived but cannot be used; retried like a transport fault."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asked for, arguments already parsed."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Completion:
    """A usable model answer: text, tool calls, or both."""

    content: str
    tool_calls: list[ToolCall]
    prompt_tokens: int
    completion_tokens: int
    model_ms: float
    events: list[dict[str, Any]] = field(default_factory=list)

    def assistant_message(self) -> dict[str, Any]:
        """The answer as a chat message, to send back with the tool results."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {
                        "name": c.name,
                        "arguments": json.dumps(c.arguments, ensure_ascii=False),
                    },
                }
                for c in self.tool_calls
            ]
        return message


@dataclass(frozen=True)
class ModelSettings:
    """How calls are made: model, sampling, per-call timeout and retry bound."""

    model: str
    temperature: float = 0.2
    call_timeout: float = 10.0
    max_retries: int = 2
    max_tokens: int = 600


class ChatModel:
    """Chat completions with tools, retries and a deadline."""

    def __init__(
        self,
        client: AsyncOpenAI,
        settings: ModelSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Wrap an SDK client (built with ``max_retries=0``: the retries are ours)."""
        self.client, self.settings = client, settings
        self._sleep, self._rng = sleep, rng or random.Random()

    async def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        deadline: float,
        tools: list[dict[str, Any]] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Completion:
        """One usable answer, retrying faults until the retries or the deadline run out.

        With ``on_text`` the answer is streamed and its text passed on piece by piece.

        Raises:
            ModelUnavailable: no usable answer.
        """
        events: list[dict[str, Any]] = []
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining < MIN_CALL_SECONDS:
                raise ModelUnavailable("turn_budget", events)
            timeout = min(self.settings.call_timeout, remaining)
            started = time.perf_counter()
            try:
                async with asyncio.timeout(timeout):  # the SDK's own timeout is per read
                    if on_text is None:
                        completion = await self._once(messages, tools, timeout)
                    else:
                        completion = await self._streamed(messages, tools, timeout, on_text)
            except Exception as exc:  # noqa: BLE001 - every fault is classified below
                reason, retry_after = _classify(exc)
                if reason is None:
                    raise
                if attempt >= self.settings.max_retries or reason in _FATAL:
                    raise ModelUnavailable(reason, events) from exc
                wait = self._backoff(attempt, retry_after)
                if time.monotonic() + wait + MIN_CALL_SECONDS > deadline:
                    raise ModelUnavailable(reason, events) from exc
                events.append(
                    {
                        "event": "retry",
                        "reason": reason,
                        "attempt": attempt + 1,
                        "wait_s": round(wait, 3),
                        "after_ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                )
                attempt += 1
                await self._sleep(wait)
                continue
            return Completion(
                content=completion.content,
                tool_calls=completion.tool_calls,
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
                model_ms=(time.perf_counter() - started) * 1000,
                events=events,
            )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), BACKOFF_CAP * 4)
        return self._rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))

    def _request(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
        }
        if tools:
            request["tools"] = tools
        return request

    async def _once(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, seconds: float
    ) -> Completion:
        response = await self.client.chat.completions.create(
            **self._request(messages, tools), timeout=seconds
        )
        if not response.choices:
            raise _Unusable("empty")
        message = response.choices[0].message
        raw_calls = [
            (c.id, c.function.name, c.function.arguments)
            for c in message.tool_calls or []
            if c.type == "function"
        ]
        usage = response.usage
        return _usable(
            message.content or "",
            getattr(message, "refusal", None),
            raw_calls,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )

    async def _streamed(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        seconds: float,
        on_text: Callable[[str], None],
    ) -> Completion:
        stream = await self.client.chat.completions.create(
            **self._request(messages, tools),
            stream=True,
            stream_options={"include_usage": True},
            timeout=seconds,
        )
        text: list[str] = []
        calls: dict[int, list[str]] = {}
        refusal: str | None = None
        prompt_tokens = completion_tokens = 0
        async with stream:
            async for chunk in stream:
                if chunk.usage is not None:
                    prompt_tokens = chunk.usage.prompt_tokens
                    completion_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta.content:
                        text.append(delta.content)
                        if not calls:
                            on_text(delta.content)
                    if getattr(delta, "refusal", None):
                        refusal = (refusal or "") + str(delta.refusal)
                    for call in delta.tool_calls or []:
                        slot = calls.setdefault(call.index, ["", "", ""])
                        slot[0] = call.id or slot[0]
                        if call.function is not None:
                            slot[1] += call.function.name or ""
                            slot[2] += call.function.arguments or ""
        raw_calls = [(c[0], c[1], c[2]) for _, c in sorted(calls.items())]
        return _usable("".join(text), refusal, raw_calls, prompt_tokens, completion_tokens)


def _usable(
    content: str,
    refusal: str | None,
    raw_calls: list[tuple[str, str, str]],
    prompt_tokens: int,
    completion_tokens: int,
) -> Completion:
    """Check a raw answer: parsed tool calls, or text; otherwise raise ``_Unusable``."""
    if refusal:
        raise _Unusable("refusal")
    calls: list[ToolCall] = []
    for index, (call_id, name, arguments) in enumerate(raw_calls):
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise _Unusable("malformed_tool_call") from exc
        if not isinstance(parsed, dict) or not name:
            raise _Unusable("malformed_tool_call")
        calls.append(ToolCall(id=call_id or f"call_{index}", name=name, arguments=parsed))
    if not calls and not content.strip():
        raise _Unusable("empty")
    return Completion(content.strip(), calls, prompt_tokens, completion_tokens, 0.0)


_FATAL = frozenset({"status_400", "status_401", "status_403", "status_404", "status_422"})


def _classify(exc: Exception) -> tuple[str | None, float | None]:
    """A retry reason and the server's Retry-After, or ``(None, None)`` for a bug of ours."""
    if isinstance(exc, _Unusable):
        return exc.reason, None
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "timeout", None
    if isinstance(exc, openai.APIStatusError):
        return f"status_{exc.status_code}", _retry_after(exc.response.headers)
    if isinstance(exc, openai.APIConnectionError):
        return "connection", None
    if isinstance(exc, openai.APIError):
        return "api_error", None
    return None, None


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds), when present and sane."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            continue
    return None
