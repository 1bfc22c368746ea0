"""Which tools the offline engine calls for an understood message."""

from __future__ import annotations

from typing import Any

from agent.state import AgentState

ACCOUNT_INTENTS = frozenset(
    {
        "ask_balance",
        "ask_due_date",
        "ask_minimum",
        "ask_plans",
        "choose_plan",
        "request_payment_link",
        "promise_to_pay",
        "cannot_pay",
        "already_paid",
        "dispute",
    }
)
BALANCE_INTENTS = frozenset({"ask_balance", "ask_due_date", "ask_minimum", "already_paid"})


def call(name: str, **args: Any) -> dict[str, Any]:
    """A planned tool call."""
    return {"name": name, "args": {k: v for k, v in args.items() if v is not None}}


def plan_tools(state: AgentState) -> tuple[list[dict[str, Any]], str | None]:
    """Return the next tool calls and the intent they answer (``[]`` means: draft now)."""
    done = state.get("tool_calls", [])
    if not done:
        return _first_step(state), None
    last = done[-1]
    result = last.get("result", {})
    if last["name"] == "verify_identity" and result.get("verified"):
        pending = state.get("pending_intent")
        if pending in ACCOUNT_INTENTS:
            return account_calls(pending, state.get("pending_slots", {}), state), pending
    if last["name"] == "list_payment_plans" and state.get("intent") == "choose_plan":
        if not any(c["name"] == "accept_plan" for c in done):
            offer_id = resolve_choice(result.get("offers", []), state.get("slots", {}), None)
            return ([call("accept_plan", offer_id=offer_id)] if offer_id else []), None
    return [], None


def _first_step(state: AgentState) -> list[dict[str, Any]]:
    intent, text = state.get("intent", ""), state.get("user_text", "")
    if intent == "distress":
        return [call("request_handoff", reason="distress")]
    if intent == "request_human":
        return [call("request_handoff", reason="permintaan_debitur")]
    if intent == "complaint":
        return [call("register_complaint", text=text[:4000], category=_complaint_category(text))]
    if intent == "ask_rights":
        return [call("search_knowledge", query=text[:500], k=3)]
    if intent not in ACCOUNT_INTENTS and intent != "verify":
        return []
    if state.get("verified_account"):
        return account_calls(intent, state.get("slots", {}), state)
    pending = state.get("pending_verify", {})
    if state.get("session_locked") or not ("last4" in pending and "birth_date" in pending):
        return []
    return [call("verify_identity", last4=pending["last4"], birth_date=pending["birth_date"])]


def account_calls(intent: str, slots: dict[str, Any], state: AgentState) -> list[dict[str, Any]]:
    """The tool calls that answer an account intent for a verified debtor."""
    if intent in BALANCE_INTENTS:
        return [call("get_balance")]
    if intent == "ask_plans":
        return [call("list_payment_plans", tenor=slots.get("tenor"))]
    if intent == "cannot_pay":
        return [call("list_payment_plans", hardship=True)]
    if intent == "choose_plan":
        offers = state.get("offers", [])
        offer_id = resolve_choice(offers, slots, state.get("focus_offer_id"))
        if offer_id:
            return [call("accept_plan", offer_id=offer_id)]
        return [] if offers else [call("list_payment_plans", tenor=slots.get("tenor"))]
    if intent == "request_payment_link":
        return [call("create_payment_link", offer_id=state.get("accepted_offer_id"))]
    if intent == "promise_to_pay":
        promise = state.get("pending_promise", {})
        if promise.get("amount") and promise.get("date"):
            return [call("record_promise_to_pay", amount=promise["amount"], date=promise["date"])]
        return []
    if intent == "dispute":
        return [
            call(
                "register_dispute",
                reason=state.get("user_text", "")[:1000],
                amount=slots.get("amount"),
            )
        ]
    return []


def resolve_choice(
    offers: list[dict[str, Any]], slots: dict[str, Any], focus_offer_id: str | None
) -> str | None:
    """Map "ambil yang 6 bulan" / "yang pertama" / "pelunasan" to one offer id, or None."""
    if not offers:
        return None
    tenor, ordinal, plan = slots.get("tenor"), slots.get("ordinal"), slots.get("plan")
    by_plan = [o for o in offers if o.get("plan") == plan] if plan else []
    by_tenor = [o for o in (by_plan or offers) if o.get("tenor_months") == tenor] if tenor else []
    # "penundaan 1 bulan": a named plan without a tenor of its own still matches.
    untimed = [o for o in by_plan if not o.get("tenor_months")]
    candidates = (by_tenor or untimed) if tenor else by_plan
    if ordinal and not (tenor or plan):
        index = ordinal - 1 if ordinal > 0 else len(offers) + ordinal
        return str(offers[index]["offer_id"]) if 0 <= index < len(offers) else None
    if (tenor or plan) and len(candidates) == 1:
        return str(candidates[0]["offer_id"])
    if not (tenor or plan or ordinal) and focus_offer_id:
        return focus_offer_id
    return None


_CONDUCT_WORDS = ("penagih", "kolektor", "collector", "dc ", "kasar", "ancam", "malam", "teror")


def _complaint_category(text: str) -> str:
    lowered = f" {text.lower()} "
    return "perilaku_penagihan" if any(w in lowered for w in _CONDUCT_WORDS) else "layanan"
