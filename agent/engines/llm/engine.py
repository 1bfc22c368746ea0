"""The LLM engine: the model picks tools and drafts; the offline engine stands behind it.

The offline NLU still reads every message first, locally: it parses verification data (which
only ever reaches ``verify_identity``, never the model), keeps the conversation's pending
facts, and lets the offline engine answer any turn the model cannot. Safety steps that must
not depend on a model -- handing a debtor in distress to a human -- are taken here, before
the model is asked.
"""

from __future__ import annotations

import json
import time
from typing import Any

from agent.engines.base import Decision, Draft, TextSink
from agent.engines.llm.budget import trim_history
from agent.engines.llm.client import ChatModel, Completion, ModelUnavailable, ToolCall
from agent.engines.llm.schemas import LOCAL_ARGUMENTS, tool_schemas
from agent.engines.offline.engine import OfflineEngine
from agent.privacy import mask_for_provider, mask_value
from agent.prompts import PromptBook, RenderedPrompt
from agent.state import AgentState
from agent.tools import TOOLS, ToolSpec

PROVIDER_HIDDEN_KEYS = frozenset({"holder_name"})
PUBLIC = frozenset({"search_knowledge"})  # tools whose results are public text
FEEDBACK_PREFIX = "(Pesan sistem, bukan dari debitur)"


class LlmEngine:
    """Drafts with an OpenAI-compatible model through the same tools and guardrail."""

    name = "llm"

    def __init__(
        self,
        model: ChatModel,
        prompts: PromptBook,
        offline: OfflineEngine,
        *,
        turn_budget: float,
        max_prompt_tokens: int = 6000,
        registry: dict[str, ToolSpec] | None = None,
    ) -> None:
        """Assemble the engine from a model seam, prompts and the offline engine behind it."""
        self.model, self.prompts, self.offline = model, prompts, offline
        self.turn_budget, self.max_prompt_tokens = turn_budget, max_prompt_tokens
        self.version = prompts.version
        self.tools = tool_schemas(registry or TOOLS)

    async def understand(self, state: AgentState) -> dict[str, Any]:
        """Read the message locally, then start the turn's model budget."""
        updates = await self.offline.understand(state)
        updates.update(
            engine_used=self.name,
            turn_deadline=time.monotonic() + self.turn_budget,
            llm_turn=[],
            llm_events=[],
            llm_usage={"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "model_ms": 0.0},
        )
        return updates

    async def decide(self, state: AgentState, on_text: TextSink | None = None) -> Decision:
        """Ask the model for tool calls or the reply; on failure the offline engine decides."""
        if state.get("engine_used") != self.name:
            return await self.offline.decide(state, on_text)
        if _in_distress(state):
            return Decision(calls=[{"name": "request_handoff", "args": {"reason": "distress"}}])
        try:
            completion, updates = await self._complete(state, tools=True, on_text=on_text)
        except ModelUnavailable as exc:
            updates = self._fell_back(state, exc, "decide")
            offline = await self.offline.decide({**state, **updates})  # type: ignore[typeddict-item]
            return Decision(offline.calls, offline.answered_intent, updates)
        if completion.tool_calls:
            updates["llm_turn"] = [*state.get("llm_turn", []), completion.assistant_message()]
            calls = [self._planned(call, state) for call in completion.tool_calls]
            return Decision(calls=calls, updates=updates)
        updates["model_text"] = completion.content
        return Decision(updates=updates)

    async def draft(self, state: AgentState, on_text: TextSink | None = None) -> Draft:
        """The model's reply, or a regenerated one after a block; offline after a failure."""
        if state.get("engine_used") != self.name:
            return await self.offline.draft(state)
        feedback = state.get("feedback", [])
        text = state.get("model_text")
        if text and not feedback:
            return Draft(text=text, source=self._source(), citations=_citations(state, text))
        try:
            completion, updates = await self._complete(
                state, tools=False, on_text=on_text, feedback=feedback
            )
        except ModelUnavailable as exc:
            updates = self._fell_back(state, exc, "draft")
            fallback = await self.offline.draft({**state, **updates})  # type: ignore[typeddict-item]
            return Draft(fallback.text, fallback.source, fallback.citations, updates)
        updates["model_text"] = completion.content
        return Draft(
            text=completion.content,
            source=self._source(),
            citations=_citations(state, completion.content),
            updates=updates,
        )

    def safe_reply(self, state: AgentState) -> Draft:
        """The approved reply with no figures (the offline engine's template)."""
        return self.offline.safe_reply(state)

    def greeting(self, holder_name: str | None) -> str:
        """The approved greeting template."""
        return self.offline.greeting(holder_name)

    async def aclose(self) -> None:
        """Close the model client's connections."""
        await self.model.client.close()

    def _source(self) -> str:
        return f"llm:{self.model.settings.model}"

    async def _complete(
        self,
        state: AgentState,
        *,
        tools: bool,
        on_text: TextSink | None,
        feedback: list[dict[str, Any]] | None = None,
    ) -> tuple[Completion, dict[str, Any]]:
        prompt = self.prompts.render(_facts(state))
        messages, dropped = self._messages(state, prompt, feedback or [])
        completion = await self.model.complete(
            messages,
            deadline=state.get("turn_deadline") or time.monotonic() + self.turn_budget,
            tools=self.tools if tools else None,
            on_text=on_text,
        )
        usage = dict(state.get("llm_usage", {}))
        usage["calls"] = usage.get("calls", 0) + 1
        usage["prompt_tokens"] = usage.get("prompt_tokens", 0) + completion.prompt_tokens
        usage["completion_tokens"] = (
            usage.get("completion_tokens", 0) + completion.completion_tokens
        )
        usage["model_ms"] = round(usage.get("model_ms", 0.0) + completion.model_ms, 3)
        events = [*state.get("llm_events", []), *completion.events]
        if dropped:
            events.append({"event": "history_trimmed", "dropped_messages": dropped})
        updates = {"llm_usage": usage, "llm_events": events, "prompt_version": prompt.version}
        return completion, updates

    def _messages(
        self, state: AgentState, prompt: RenderedPrompt, feedback: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], int]:
        history = [
            {"role": entry["role"], "content": mask_for_provider(entry["text"])}
            for entry in state.get("transcript", [])
            if entry.get("role") in ("user", "assistant")
        ]
        turn: list[dict[str, Any]] = [
            {"role": "user", "content": mask_for_provider(state.get("user_text", ""))}
        ]
        results = {c["call_id"]: c for c in state.get("tool_calls", []) if c.get("call_id")}
        for message in state.get("llm_turn", []):
            turn.append(message)
            for call in message.get("tool_calls", []):
                done = results.get(call["id"])
                result = done["result"] if done else {"ok": False, "error": "not_executed"}
                content = for_provider(result, public=done is not None and done["name"] in PUBLIC)
                turn.append({"role": "tool", "tool_call_id": call["id"], "content": content})
        if feedback:
            turn.append({"role": "assistant", "content": state.get("draft", "")})
            turn.append({"role": "user", "content": _feedback_text(feedback)})
        return trim_history(prompt.messages, history, turn, self.max_prompt_tokens)

    def _planned(self, call: ToolCall, state: AgentState) -> dict[str, Any]:
        args = call.arguments
        if call.name in LOCAL_ARGUMENTS:  # filled from the locally parsed message, never the model
            pending = state.get("pending_verify", {})
            args = {k: pending[k] for k in ("last4", "birth_date") if k in pending}
        return {"name": call.name, "args": args, "call_id": call.id}

    def _fell_back(self, state: AgentState, exc: ModelUnavailable, stage: str) -> dict[str, Any]:
        event = {"event": "fallback", "reason": exc.reason, "stage": stage, "engine": "offline"}
        return {
            "engine_used": self.offline.name,
            "llm_events": [*state.get("llm_events", []), *exc.events, event],
        }


def for_provider(result: dict[str, Any], *, public: bool = False) -> str:
    """A tool result as the model may see it: personal data masked, names left out.

    ``public`` results (regulation and policy passages) hold no personal data and are sent
    as they are, dates included.
    """
    visible = {k: v for k, v in result.items() if k not in PROVIDER_HIDDEN_KEYS}
    return json.dumps(visible if public else mask_value(visible), ensure_ascii=False, default=str)


def _feedback_text(feedback: list[dict[str, Any]]) -> str:
    found = "; ".join(f"{v['rule']}: {v['message']}" for v in feedback)
    return (
        f"{FEEDBACK_PREFIX} Draf balasan Anda diblokir pemeriksa kepatuhan dan tidak dikirim. "
        f"Pelanggaran: {found}. Tulis ulang balasan untuk debitur tanpa pelanggaran tersebut, "
        "hanya dengan angka dari hasil alat, dengan sopan."
    )


def _in_distress(state: AgentState) -> bool:
    return (
        state.get("intent") == "distress"
        and not state.get("handoff")
        and not state.get("tool_calls")
    )


def _facts(state: AgentState) -> dict[str, Any]:
    return {
        "today": state.get("today", ""),
        "timezone": state.get("timezone") or "Asia/Jakarta",
        "verified": bool(state.get("verified_account")) and not state.get("third_party"),
        "product": state.get("product"),
        "third_party": bool(state.get("third_party")),
        "distress": bool(state.get("distress")),
        "handoff": bool(state.get("handoff")),
        "session_locked": bool(state.get("session_locked")),
        "accepted_offer_id": state.get("accepted_offer_id"),
        "offers": [
            {k: o.get(k) for k in ("offer_id", "plan", "tenor_months")}
            for o in state.get("offers", [])
        ]
        if state.get("verified_account")
        else [],
        "payments_received": (
            state.get("payments_received", []) if state.get("verified_account") else []
        ),
        "flags": [f for f in state.get("flags", []) if f in ("injection", "abuse", "third_party")],
    }


def _citations(state: AgentState, text: str) -> list[dict[str, Any]]:
    """Passages this turn retrieved that the reply names, else the best current one."""
    passages = [
        p
        for call in state.get("tool_calls", [])
        if call["name"] == "search_knowledge" and call["result"].get("ok")
        for p in call["result"].get("passages", [])
        if p.get("current", True)
    ]
    if not passages:
        return []
    lowered = text.lower()
    named = [p for p in passages if p["id"].lower() in lowered or p["source"].lower() in lowered]
    return [
        {"id": p["id"], "title": p["title"], "source": p["source"]} for p in named or passages[:1]
    ]
