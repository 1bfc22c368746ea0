"""The conversation state that LangGraph checkpoints between turns."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

TRANSCRIPT_KEEP = 40


def keep_recent(left: list[dict[str, str]], right: list[dict[str, str]]) -> list[dict[str, str]]:
    """Append to the transcript, keeping the most recent entries (the audit keeps all)."""
    return (left + right)[-TRANSCRIPT_KEEP:]


class AgentState(TypedDict, total=False):
    """Everything the graph knows about one conversation.

    Conversation-long keys survive between turns through the checkpointer; per-turn keys
    are reset by the first node of every turn.
    """

    # conversation-long
    session_id: str
    auth_account: str | None
    transcript: Annotated[list[dict[str, str]], keep_recent]
    verified_account: str | None
    failed_attempts: int
    session_locked: bool
    handoff: bool
    third_party: bool
    pending_intent: str | None
    pending_slots: dict[str, Any]
    focus_offer_id: str | None
    pending_verify: dict[str, str]
    pending_promise: dict[str, Any]
    offers: list[dict[str, Any]]
    accepted_offer_id: str | None
    payment_asked: bool
    turn: int
    timezone: str
    product: str | None
    kol: int | None
    distress: bool
    today: str
    # per turn (set by the service with every message)
    payments_received: list[dict[str, Any]]
    # per turn
    user_text: str
    flags: list[str]
    intent: str
    slots: dict[str, Any]
    nlu_rules: list[str]
    planned: list[dict[str, Any]]
    answered_intent: str | None
    tool_calls: list[dict[str, Any]]
    steps: int
    draft: str
    template: str
    drafts: list[dict[str, Any]]
    citations: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    reply: str
    # per turn, LLM engine bookkeeping (see agent/engines/llm/engine.py)
    stream: bool
    released: list[str]
    engine_used: str
    prompt_version: str
    model_text: str | None
    llm_turn: list[dict[str, Any]]
    llm_events: list[dict[str, Any]]
    llm_usage: dict[str, Any]
    turn_deadline: float


PER_TURN_RESET: dict[str, Any] = {
    "flags": [],
    "intent": "",
    "slots": {},
    "nlu_rules": [],
    "planned": [],
    "answered_intent": None,
    "tool_calls": [],
    "steps": 0,
    "draft": "",
    "template": "",
    "drafts": [],
    "citations": [],
    "feedback": [],
    "reply": "",
    "released": [],
    "engine_used": "",
    "prompt_version": "",
    "model_text": None,
    "llm_turn": [],
    "llm_events": [],
    "llm_usage": {},
    "turn_deadline": 0.0,
}
