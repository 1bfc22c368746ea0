"""Drafts the offline engine's reply from approved templates and this turn's tool results."""

from __future__ import annotations

from typing import Any

from agent.engines.offline.handlers import HANDLERS, Part
from agent.engines.offline.planner import ACCOUNT_INTENTS
from agent.engines.offline.templates import TemplateBook
from agent.state import AgentState

_SIMPLE = (
    "greeting",
    "ask_identity",
    "abusive",
    "third_party",
    "thanks_bye",
    "out_of_scope",
    "injection",
)


class Composer:
    """Turns intent, state and tool results into one approved reply."""

    def __init__(self, book: TemplateBook, max_chars: int = 4000) -> None:
        """Use a loaded template book."""
        self.book = book
        self.max_chars = max_chars

    def compose(self, state: AgentState) -> tuple[str, list[str]]:
        """Return the reply text and the template keys it was built from."""
        for flag in ("empty", "garbage", "too_long"):
            if flag in state.get("flags", []):
                return self.render([(flag, {"limit": self.max_chars})])
        calls = {c["name"]: c for c in state.get("tool_calls", [])}
        payments = _payments_part(state)
        parts: list[Part] = list(payments)
        verify = calls.get("verify_identity")
        if verify is not None:
            parts.append(_verify_part(verify["result"], bool(state.get("answered_intent"))))
            if not verify["result"].get("verified"):
                return self.render(parts)
        intent = state.get("answered_intent") or state.get("intent") or "out_of_scope"
        if payments and intent == "already_paid":  # "sudah saya bayar": the confirmation answers it
            return self.render([*parts, ("anything_else", {})])
        if intent == "verify" and verify is None and not state.get("verified_account"):
            parts.extend(self._unverified(state, intent))
        elif intent == "verify" and verify is None:
            parts.append(("verified_next", {}))
        elif intent != "verify":
            parts.extend(self._intent(intent, state, calls))
        return self.render(parts or [("fallback", {})])

    def render(self, parts: list[Part]) -> tuple[str, list[str]]:
        """Render template parts into one reply."""
        text = " ".join(self.book.render(key, **values) for key, values in parts)
        return text, [key for key, _ in parts]

    def _intent(self, intent: str, state: AgentState, calls: dict[str, Any]) -> list[Part]:
        if intent in ACCOUNT_INTENTS and not state.get("verified_account"):
            return self._unverified(state, intent)
        if intent in _SIMPLE:
            if intent == "greeting" and state.get("verified_account"):
                return [("greeting_again", {})]
            return [(intent, {})]
        handler = HANDLERS.get(intent)
        return handler(self.book, state, calls) if handler else [("fallback", {})]

    def _unverified(self, state: AgentState, intent: str) -> list[Part]:
        if state.get("session_locked"):
            return [("verify_session_locked", {})]
        parts: list[Part] = [("hardship_unverified", {})] if intent == "cannot_pay" else []
        pending = state.get("pending_verify", {})
        if "last4" in pending and "birth_date" not in pending:
            return [*parts, ("verify_need_birth_date", {})]
        if "birth_date" in pending and "last4" not in pending:
            return [*parts, ("verify_need_last4", {})]
        purpose = self.book.purposes.get(state.get("pending_intent") or intent, "")
        return [*parts, ("ask_verification", {"purpose": purpose})]


def _payments_part(state: AgentState) -> list[Part]:
    """Confirm payments the gateway reported since the last turn (verified holder only)."""
    if not state.get("verified_account") or state.get("third_party"):
        return []
    return [
        ("payment_received", {"amount": p["amount"], "paid_at": p["paid_at"]})
        for p in state.get("payments_received", [])
    ]


def _verify_part(result: dict[str, Any], answering: bool) -> Part:
    if result.get("verified"):
        return ("verified" if answering else "verified_next", {})
    if result.get("account_locked"):
        return ("verify_account_locked", {})
    if result.get("session_locked"):
        return ("verify_session_locked", {})
    return ("verify_failed", {"attempts_left": result.get("attempts_left", 0)})
