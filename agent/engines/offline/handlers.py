"""Per-intent reply builders: which approved templates, filled with which tool results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.engines.offline.templates import TemplateBook
from agent.formatting import rupiah
from agent.state import AgentState

Part = tuple[str, dict[str, Any]]
Handler = Callable[[TemplateBook, AgentState, dict[str, Any]], list[Part]]
_TZ_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def _result(calls: dict[str, Any], name: str) -> dict[str, Any] | None:
    call = calls.get(name)
    return call["result"] if call and call["result"].get("ok") else None


def _balance(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    r = _result(calls, "get_balance")
    if r is None:
        return [("fallback", {})]
    dispute = r["dispute"] if r.get("dispute") and r["dispute"]["status"] == "open" else None
    values = {
        "as_of": r["as_of"],
        "dpd": r["dpd"],
        "dispute": dispute,
        "amount_due": r["amount_due"],
        "s": r.get("statement"),
        "l": r.get("loan"),
    }
    intent = state.get("answered_intent") or state.get("intent")
    key = {"ask_due_date": "due_date", "ask_minimum": "minimum"}.get(str(intent), "balance")
    if key == "minimum" and r.get("statement") is not None and not r.get("minimum_offered"):
        key = "minimum_not"
    suffix = "_kta" if r["product"] == "kta" else "_card"
    parts: list[Part] = [
        (f"{key}{suffix}" if key != "minimum_not" else "minimum_not_offered", values)
    ]
    calm = state.get("distress") or (dispute and state.get("payment_asked"))
    if key == "balance" and not calm:
        parts.append(("nudge", {}))
    return parts


def _already_paid(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    r = _result(calls, "get_balance")
    if r is None:
        return [("fallback", {})]
    lp = r["last_payment"]
    return [("already_paid", {"lp": lp, "lp_date": lp["date"]})]


def offer_line(book: TemplateBook, offer: dict[str, Any]) -> str:
    """One line of the offers list, e.g. ``Cicilan tetap 6 bulan: Rp2.145.000 per bulan.``."""
    label = book.label(offer)
    if offer["kind"] == "instalment":
        return f"{label}: {rupiah(offer['installment'])} per bulan."
    if offer["kind"] == "deferral":
        return f"{label}."
    return f"{label}: {rupiah(offer['amount'])}."


def offers_parts(book: TemplateBook, offers: list[dict[str, Any]], lead: list[Part]) -> list[Part]:
    """A numbered list of offers, led by ``lead`` (or a plain intro), then the expiry."""
    if not offers:
        return [*lead, ("fallback", {})]
    lines = " ".join(f"{i}. {offer_line(book, o)}" for i, o in enumerate(offers, 1))
    example = next(
        (f"{o['tenor_months']} bulan" for o in offers if o.get("tenor_months")), "pertama"
    )
    expires = min(o["expires_at"] for o in offers)
    return [
        *(lead or [("plans_intro", {})]),
        ("rights_answer", {"answer": lines}),
        ("plans_outro", {"expires": expires, "example": example}),
    ]


def _plans(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    r = _result(calls, "list_payment_plans")
    if r is None:
        return [("fallback", {})]
    offers, tenor = r["offers"], r.get("requested_tenor")
    lead: list[Part] = []
    if r.get("hardship_review"):
        lead.append(("hardship", {"reference": r["hardship_review"]}))
    matching = [o for o in offers if o["offer_id"] in r.get("matching_offer_ids", [])]
    wanted = state.get("slots", {}).get("plan")
    if wanted in book.plan_names and not any(o["plan"] == wanted for o in offers):
        lead.append(("plans_plan_unavailable", {"plan_name": book.plan_names[wanted]}))
    elif tenor and len(matching) == 1:
        offer = matching[0]
        lead.append(("plans_tenor_match", {"label": book.label(offer), "offer": offer}))
        offers = [o for o in offers if o is not offer]
    elif tenor and not matching:
        lead.append(("plans_tenor_unavailable", {"tenor": tenor}))
    elif lead:
        lead.append(("plans_intro", {}))
    return offers_parts(book, offers, lead)


def _choose(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    accept = calls.get("accept_plan")
    if accept and accept["result"].get("ok"):
        offer = accept["result"]["offer"]
        return [("plan_accepted", {"label": book.label(offer), "offer": offer})]
    listed = _result(calls, "list_payment_plans")
    if accept and accept["result"].get("error") == "offer_expired":
        return [("plan_offer_expired", {})]
    offers = listed["offers"] if listed else state.get("offers", [])
    return offers_parts(book, offers, [("plan_choice_unclear", {})])


def _payment_link(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    call = calls.get("create_payment_link")
    r = call["result"] if call else {}
    if not r.get("ok"):
        return [
            ("payment_link_error", {"reason": "Mohon pilih kembali rencana pembayaran Anda."}),
            ("fallback", {}),
        ]
    offer = next((o for o in state.get("offers", []) if o["offer_id"] == r.get("offer_id")), None)
    purpose = f"pilihan {book.label(offer).lower()}" if offer else "tagihan Bapak/Ibu"
    tz = state.get("timezone") or "Asia/Jakarta"
    moment = datetime.fromisoformat(r["expires_at"]).astimezone(ZoneInfo(tz))
    return [
        (
            "payment_link",
            {
                "purpose": purpose,
                "link": r,
                "expires": moment.date(),
                "expires_time": moment.strftime("%H.%M"),
                "tz": _TZ_NAMES.get(tz, ""),
            },
        )
    ]


def _promise(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    call = calls.get("record_promise_to_pay")
    today = date.fromisoformat(state.get("today") or date.today().isoformat())
    latest = today + timedelta(days=14)
    if call is None:
        pending = state.get("pending_promise", {})
        if not pending.get("amount"):
            return [("promise_need_amount", {"date": pending.get("date")})]
        return [("promise_need_date", {"latest": latest})]
    r = call["result"]
    if r.get("ok"):
        replaced = r.get("replaced")
        return [
            (
                "promise_recorded",
                {
                    "p": r,
                    "p_date": r["date"],
                    "replaced_date": replaced["date"] if replaced else None,
                },
            )
        ]
    error = r.get("error")
    if error == "date_in_past":
        return [("promise_date_past", {})]
    if error == "date_too_far":
        return [("promise_date_too_far", {"latest": r.get("latest_date", latest)})]
    if error == "amount_above_due":
        return [("promise_amount_above", {"amount_due": r["amount_due"]})]
    return [("fallback", {})]


def _dispute(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    r = _result(calls, "register_dispute")
    if r is None:
        return [("fallback", {})]
    key = "dispute_created" if r["created"] else "dispute_existing"
    return [(key, {"d": r, "d_opened": r["opened"]})]


def _complaint(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    r = _result(calls, "register_complaint")
    return (
        [("complaint_registered", {"c": r, "due": r["response_due"]})] if r else [("fallback", {})]
    )


def _rights(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    r = _result(calls, "search_knowledge")
    passages = (r or {}).get("passages", [])
    if not passages:
        return [("rights_unavailable", {})]
    top = passages[0]
    if not top.get("current", True):
        return [("rights_outdated", {"p": top, "until": top.get("effective_to")})]
    return [("rights_answer", {"answer": top["text"].strip()}), ("citation_note", {"p": top})]


def _handoff(book: TemplateBook, state: AgentState, calls: dict[str, Any]) -> list[Part]:
    r = _result(calls, "request_handoff")
    if r is None:
        return [("fallback", {})]
    key = "distress" if state.get("intent") == "distress" else "handoff"
    return [(key, {"h": r})]


HANDLERS: dict[str, Handler] = {
    "ask_balance": _balance,
    "ask_due_date": _balance,
    "ask_minimum": _balance,
    "already_paid": _already_paid,
    "ask_plans": _plans,
    "cannot_pay": _plans,
    "choose_plan": _choose,
    "request_payment_link": _payment_link,
    "promise_to_pay": _promise,
    "dispute": _dispute,
    "complaint": _complaint,
    "ask_rights": _rights,
    "request_human": _handoff,
    "distress": _handoff,
}
