"""The engine seam: what the graph asks of an engine, whichever drafts the words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.state import AgentState


@dataclass(frozen=True)
class Decision:
    """The next tool calls (empty: draft now) and the intent they answer, if deferred."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    answered_intent: str | None = None
    updates: dict[str, Any] = field(default_factory=dict)  # engine bookkeeping for the state


@dataclass(frozen=True)
class Draft:
    """A candidate reply, not yet checked by the guardrail."""

    text: str
    source: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    updates: dict[str, Any] = field(default_factory=dict)  # engine bookkeeping for the state


TextSink = Callable[[str], None]
"""Receives the reply's text piece by piece while a model streams it."""


class Engine(Protocol):
    """An engine understands a message, picks tools and drafts the reply."""

    name: str
    version: str

    async def understand(self, state: AgentState) -> dict[str, Any]:
        """Return state updates: intent, slots and the rules or model that decided."""
        ...

    async def decide(self, state: AgentState, on_text: TextSink | None = None) -> Decision:
        """Return the next tool calls given the tool results so far (or the reply's text)."""
        ...

    async def draft(self, state: AgentState, on_text: TextSink | None = None) -> Draft:
        """Draft a reply; ``state['feedback']`` holds violations of a blocked draft."""
        ...

    def safe_reply(self, state: AgentState) -> Draft:
        """An approved reply that needs no figures, for when drafts keep being blocked."""
        ...

    def greeting(self, holder_name: str | None) -> str:
        """The opening message of a session."""
        ...
