"""Graph nodes: plain async functions returning only the state keys they change."""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from langgraph.config import get_stream_writer

from agent.engines.base import Engine
from agent.protocols import Guard
from agent.state import PER_TURN_RESET, AgentState
from agent.streaming import SentenceGate
from agent.tools import TOOLS, ToolContext, ToolDeps, run_tool
from guardrails import GuardContext
from guardrails.contextual import amounts_in
from guardrails.screening import screen_message

MAX_TOOL_STEPS = 4
_SHORT_CIRCUIT = ("empty", "garbage", "too_long")


def _garbage(text: str) -> bool:
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return False
    readable = sum(1 for c in visible if unicodedata.category(c)[0] in "LNP" and c != "\ufffd")
    return readable / len(visible) < 0.6


async def screen_input(state: AgentState, *, max_chars: int) -> dict[str, Any]:
    """Reset per-turn keys and flag empty, over-long or unreadable messages."""
    text = "".join(c for c in state.get("user_text", "") if c in "\n\t" or c.isprintable())
    flags: list[str] = []
    if not text.strip():
        flags.append("empty")
    elif len(text) > max_chars:
        flags.append("too_long")
        text = text[:max_chars]
    elif _garbage(text):
        flags.append("garbage")
    else:
        flags.extend(sorted(screen_message(text).flags))
    updates: dict[str, Any] = {
        **PER_TURN_RESET,
        "flags": flags,
        "user_text": text,
        "turn": state.get("turn", 0) + 1,
    }
    auth = state.get("auth_account")
    if auth and not state.get("verified_account") and not state.get("third_party"):
        updates["verified_account"] = auth
    return updates


def route_after_screen(state: AgentState) -> Literal["understand", "compose"]:
    """Skip understanding for messages that only need a polite request."""
    return "compose" if set(state.get("flags", [])) & set(_SHORT_CIRCUIT) else "understand"


async def understand(state: AgentState, *, engine: Engine) -> dict[str, Any]:
    """Ask the engine what the debtor wants."""
    return await engine.understand(state)


async def decide(state: AgentState, *, engine: Engine, guard: Guard) -> dict[str, Any]:
    """Ask the engine for the next tool calls (a model may stream the reply right here)."""
    if state.get("steps", 0) >= MAX_TOOL_STEPS:
        return {"planned": []}
    gate = _gate(state, guard)
    decision = await engine.decide(state, gate.feed if gate else None)
    updates: dict[str, Any] = {**decision.updates, "planned": decision.calls}
    if gate is not None:
        updates["released"] = gate.close(decision.calls == [])
    if decision.answered_intent:
        updates["answered_intent"] = decision.answered_intent
    return updates


def route_after_decide(state: AgentState) -> Literal["tools", "compose"]:
    """Run tools while some are planned."""
    return "tools" if state.get("planned") else "compose"


async def run_tools(state: AgentState, *, deps: ToolDeps) -> dict[str, Any]:
    """Execute the planned tool calls and apply their effects to the conversation."""
    updates: dict[str, Any] = {}
    calls = list(state.get("tool_calls", []))
    for planned in state.get("planned", []):
        merged: AgentState = {**state, **updates}  # type: ignore[typeddict-item]
        ctx = ToolContext(
            session_id=state.get("session_id", ""),
            verified_account=merged.get("verified_account"),
            failed_attempts=merged.get("failed_attempts", 0),
        )
        result = run_tool(TOOLS, planned["name"], planned.get("args", {}), deps, ctx)
        record = {"name": planned["name"], "args": planned.get("args", {}), "result": result}
        if "call_id" in planned:  # the model's id, to send the result back to it
            record["call_id"] = planned["call_id"]
        calls.append(record)
        updates.update(tool_effects(planned["name"], result, deps))
    return {**updates, "tool_calls": calls, "planned": [], "steps": state.get("steps", 0) + 1}


def tool_effects(name: str, result: dict[str, Any], deps: ToolDeps) -> dict[str, Any]:
    """What a tool result changes in the conversation state."""
    if not result.get("ok"):
        return {}
    if name == "verify_identity":
        if result.get("verified"):
            account = deps.store.get_account(result["account_id"])
            return {
                "verified_account": result["account_id"],
                "pending_verify": {},
                "failed_attempts": 0,
                "third_party": False,
                "timezone": account.timezone if account else None,
            }
        return {
            "failed_attempts": result.get("failed_attempts", 0),
            "pending_verify": {},
            "session_locked": bool(result.get("session_locked")),
        }
    if name == "list_payment_plans":
        matching = result.get("matching_offer_ids", [])
        return {
            "offers": result["offers"],
            "focus_offer_id": matching[0] if len(matching) == 1 else None,
        }
    if name == "accept_plan":
        return {"accepted_offer_id": result["offer"]["offer_id"]}
    if name == "record_promise_to_pay":
        return {"pending_promise": {}}
    if name == "request_handoff":
        return {"handoff": True}
    if name == "create_payment_link":
        return {"payment_asked": True}
    return {}


async def compose(state: AgentState, *, engine: Engine, guard: Guard) -> dict[str, Any]:
    """Draft the reply (streamed sentence by sentence when nothing was released yet)."""
    gate = None if state.get("released") else _gate(state, guard)
    draft = await engine.draft(state, gate.feed if gate else None)
    updates = {
        **draft.updates,
        "draft": draft.text,
        "template": draft.source,
        "citations": draft.citations,
    }
    if gate is not None:
        updates["released"] = gate.close(True)
    return updates


def _gate(state: AgentState, guard: Guard) -> SentenceGate | None:
    """A sentence gate for a streamed turn: each sentence is checked before it is released."""
    if not state.get("stream"):
        return None
    context = guard_context(state)
    return SentenceGate(lambda s: guard.check(s, context).allowed, get_stream_writer())


def guard_context(state: AgentState) -> GuardContext:
    """The facts the guardrail checks a draft against: this turn's tools and the session."""
    amounts: set[int] = set()
    public: set[int] = set()
    cited: list[str] = []
    offers = {o["plan"] for o in state.get("offers", [])}
    amounts.update(p["amount"] for p in state.get("payments_received", []))
    for call in state.get("tool_calls", []):
        result = call.get("result", {})
        if call["name"] == "search_knowledge":
            public.update(*(amounts_in(p["text"]) for p in result.get("passages", [])))
            cited.extend(p["text"].strip() for p in result.get("passages", []))
            continue
        amounts.update(_ints(result))
        offers.update(o["plan"] for o in result.get("offers", []))
        if "offer" in result:
            offers.add(result["offer"]["plan"])
    third_party = bool(state.get("third_party"))
    return GuardContext(
        verified=bool(state.get("verified_account")) and not third_party,
        known_amounts=frozenset(amounts),
        public_amounts=frozenset(public),
        cited=tuple(cited),
        offers=frozenset(offers),
        distress=bool(state.get("distress")),
        speaker="third_party" if third_party else "debtor",
        product=state.get("product"),
        kol=state.get("kol"),
    )


def _ints(value: Any) -> set[int]:
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_ints(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_ints(v) for v in value)) if value else set()
    return set()


async def check_draft(state: AgentState, *, guard: Guard) -> dict[str, Any]:
    """Run the guardrail on the draft; a blocked draft's violations become feedback."""
    verdict = guard.check(state.get("draft", ""), guard_context(state))
    record = {
        "text": state.get("draft", ""),
        "source": state.get("template", ""),
        **verdict.to_dict(),
    }
    updates: dict[str, Any] = {"drafts": [*state.get("drafts", []), record]}
    updates["feedback"] = [] if verdict.allowed else record["violations"]
    return updates


def route_after_guard(
    state: AgentState, *, max_regenerations: int
) -> Literal["respond", "compose", "fallback"]:
    """Send an allowed draft; regenerate a blocked one a bounded number of times."""
    drafts = state.get("drafts", [])
    if drafts and drafts[-1]["allowed"]:
        return "respond"
    blocked = sum(1 for d in drafts if not d["allowed"])
    return "compose" if blocked <= max_regenerations else "fallback"


async def fallback(state: AgentState, *, engine: Engine, guard: Guard) -> dict[str, Any]:
    """Use the approved safe reply after repeated blocks (it is checked too)."""
    safe = engine.safe_reply(state)
    verdict = guard.check(safe.text, GuardContext(verified=False))
    record = {"text": safe.text, "source": safe.source, **verdict.to_dict()}
    return {
        "draft": safe.text,
        "template": safe.source,
        "citations": [],
        "drafts": [*state.get("drafts", []), record],
    }


async def respond(state: AgentState) -> dict[str, Any]:
    """Fix the reply and append the exchange to the transcript."""
    reply = state.get("draft", "")
    answered = state.get("answered_intent") or state.get("intent")
    updates: dict[str, Any] = {
        "reply": reply,
        "transcript": [
            {"role": "user", "text": state.get("user_text", "")},
            {"role": "assistant", "text": reply},
        ],
    }
    if state.get("verified_account") and answered == state.get("pending_intent"):
        updates["pending_intent"] = None
    return updates
