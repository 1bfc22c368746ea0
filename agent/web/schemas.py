"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SessionCreate(BaseModel):
    """Open a session, optionally verified by a signed token."""

    model_config = ConfigDict(extra="forbid")

    auth_token: str | None = Field(default=None, max_length=2048)


class SessionCreated(BaseModel):
    """A new session and its greeting."""

    session_id: str
    reply: str


class MessageIn(BaseModel):
    """One debtor message."""

    model_config = ConfigDict(extra="forbid")

    text: str
    client_message_id: str | None = Field(default=None, min_length=1, max_length=128)


class ToolCallOut(BaseModel):
    """A tool the agent used this turn."""

    name: str
    args: dict[str, Any]
    result: dict[str, Any]


class CitationOut(BaseModel):
    """A passage the reply is grounded in."""

    id: str
    title: str
    source: str


class GuardrailOut(BaseModel):
    """What the guardrail blocked this turn."""

    drafts_blocked: int
    violations: list[dict[str, Any]]


class MessageOut(BaseModel):
    """The agent's answer to one message."""

    reply: str
    verified: bool
    tool_calls: list[ToolCallOut]
    citations: list[CitationOut]
    guardrail: GuardrailOut
    handoff: bool


class ErrorOut(BaseModel):
    """An error, in Indonesian for debtors."""

    detail: str
