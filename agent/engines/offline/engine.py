"""The embedded offline engine: Indonesian NLU, a tool planner and approved templates."""

from __future__ import annotations

from datetime import date
from typing import Any

from agent.clock import Clock, local_today
from agent.engines.base import Decision, Draft, TextSink
from agent.engines.offline.composer import Composer
from agent.engines.offline.nlu import understand as nlu_understand
from agent.engines.offline.planner import ACCOUNT_INTENTS, plan_tools
from agent.engines.offline.slots import parse_amount, parse_date
from agent.engines.offline.templates import TemplateBook, default_templates
from agent.state import AgentState

_FOLLOW_UP_INTENTS = frozenset({"out_of_scope", "promise_to_pay", "greeting", "thanks_bye"})
_AFTER_CRISIS = frozenset({"out_of_scope", "greeting", "thanks_bye"})
# A figure given while we wait for the promised amount ("full tunggakannya aja, 3.824.000").
_AMOUNT_ANSWER_INTENTS = _FOLLOW_UP_INTENTS | {"ask_plans", "choose_plan", "ask_balance"}


class OfflineEngine:
    """Deterministic engine that needs no model and no network."""

    name = "offline"

    def __init__(
        self, clock: Clock, book: TemplateBook | None = None, max_chars: int = 4000
    ) -> None:
        """Build the engine around a clock and the approved templates."""
        self.clock = clock
        self.book = book or default_templates()
        self.version = self.book.version
        self.composer = Composer(self.book, max_chars)

    async def understand(self, state: AgentState) -> dict[str, Any]:
        """Classify the message and carry partial verification and promise data forward."""
        today = local_today(self.clock, state.get("timezone"))
        result = nlu_understand(state.get("user_text", ""), today)
        slots = {k: _jsonable(v) for k, v in result.slots.model_dump().items() if v is not None}
        if state.get("pending_promise"):
            slots = {**_promise_slots(state.get("user_text", ""), today), **slots}
        intent = _screened_intent(
            _follow_up_intent(result.intent, slots, state), state.get("flags", [])
        )
        if state.get("distress") and intent in _AFTER_CRISIS:
            intent = "distress"  # "saya cuma mau pamit" after a crisis signal: help again
        if state.get("third_party") and intent in ACCOUNT_INTENTS | {"verify"}:
            intent = "third_party"  # a declared third party never becomes the holder
        updates: dict[str, Any] = {
            "intent": intent,
            "slots": slots,
            "nlu_rules": list(result.matched),
            "today": today.isoformat(),
        }
        verified = bool(state.get("verified_account"))
        if intent == "distress":
            updates["distress"] = True
        if intent == "third_party":
            updates.update(third_party=True, verified_account=None, pending_intent=None)
            return updates
        if not verified:
            pending: dict[str, str] = {
                **state.get("pending_verify", {}),
                **{k: slots[k] for k in ("last4", "birth_date") if k in slots},
            }
            updates["pending_verify"] = pending
            wanted = result.alternative if intent == "verify" else intent
            if wanted in ACCOUNT_INTENTS:  # "cek tagihan dong, kartu 9054, lahir ..."
                updates.update(pending_intent=wanted, pending_slots=slots)
        if intent == "promise_to_pay":
            updates["pending_promise"] = {
                **state.get("pending_promise", {}),
                **{k: slots[k] for k in ("amount", "date") if k in slots},
            }
        elif state.get("pending_promise") and intent != "verify":
            updates["pending_promise"] = {}  # verifying first keeps the promise being taken
        return updates

    async def decide(self, state: AgentState, on_text: TextSink | None = None) -> Decision:
        """Plan the next tool calls from the intent and the results so far."""
        calls, answered = plan_tools(state)
        return Decision(calls=calls, answered_intent=answered)

    async def draft(self, state: AgentState, on_text: TextSink | None = None) -> Draft:
        """Fill the approved templates; a regenerated draft falls back to the safe reply."""
        if state.get("feedback"):
            return self.safe_reply(state)
        text, keys = self.composer.compose(state)
        return Draft(
            text=text, source="template:" + "+".join(keys), citations=_citations(state, keys)
        )

    def safe_reply(self, state: AgentState) -> Draft:
        """The approved reply with no figures in it."""
        return Draft(text=self.book.render("fallback"), source="template:fallback")

    def greeting(self, holder_name: str | None) -> str:
        """The opening message, personal only for a verified session."""
        if holder_name:
            return self.book.render("greeting_verified", name=holder_name)
        return self.book.render("greeting")


def _follow_up_intent(intent: str, slots: dict[str, Any], state: AgentState) -> str:
    """Read a bare answer ("500rb", "lahir 1 Mei 1990") as the answer to our last question."""
    if (
        not state.get("verified_account")
        and state.get("pending_verify")
        and ("last4" in slots or "birth_date" in slots)
        and intent in _FOLLOW_UP_INTENTS | {"verify"}
    ):
        return "verify"
    promise = state.get("pending_promise")
    if promise and ("amount" in slots or "date" in slots) and intent in _FOLLOW_UP_INTENTS:
        return "promise_to_pay"
    if promise and "amount" in slots and "amount" not in promise:
        return "promise_to_pay" if intent in _AMOUNT_ANSWER_INTENTS else intent
    return intent


def _screened_intent(intent: str, flags: list[str]) -> str:
    """Safety signals of the input screen take precedence over the NLU's reading."""
    if "distress" in flags:
        return "distress"
    if "third_party" in flags and intent != "distress":
        return "third_party"
    if "injection" in flags and intent not in ("distress", "third_party"):
        return "injection"
    if "abuse" in flags and intent == "out_of_scope":
        return "abusive"
    return intent


def _promise_slots(text: str, today: date) -> dict[str, Any]:
    """Amount and date in a bare answer to "berapa nominalnya?" / "kapan?"."""
    found = {"amount": parse_amount(text), "date": parse_date(text, today)}
    return {k: _jsonable(v) for k, v in found.items() if v is not None}


def _citations(state: AgentState, keys: list[str]) -> list[dict[str, Any]]:
    if "rights_answer" not in keys:
        return []
    for call in state.get("tool_calls", []):
        if call["name"] == "search_knowledge" and call["result"].get("ok"):
            passages = [p for p in call["result"]["passages"] if p.get("current", True)]
            return [
                {"id": p["id"], "title": p["title"], "source": p["source"]} for p in passages[:1]
            ]
    return []


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
