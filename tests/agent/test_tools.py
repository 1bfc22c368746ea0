"""The tools as a debtor meets them: verification gate, figures, offers, links, cases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from agent import tokens
from agent.clock import FixedClock
from agent.config import Settings
from agent.policy import load_policy
from agent.portfolio import load_portfolio
from agent.storage import CaseBook, Store, init_database, make_engine
from agent.tools import TOOLS, ToolContext, ToolDeps, run_tool
from agent.tools.payments import PAYMENT_TOKEN_KIND
from tests.conftest import DEMO_NOW


@pytest.fixture
def deps(settings: Settings) -> ToolDeps:
    factory = init_database(make_engine(settings.resolved_database_url()), load_portfolio())
    return ToolDeps(
        store=Store(factory),
        cases=CaseBook(factory),
        policy=load_policy(),
        clock=FixedClock(DEMO_NOW),
        signing_key=b"k",
        public_url="http://pay.test",
    )


def call(
    deps: ToolDeps, name: str, account: str | None = None, failures: int = 0, **args: Any
) -> dict[str, Any]:
    return run_tool(TOOLS, name, args, deps, ToolContext("s1", account, failures))


def test_every_account_tool_refuses_before_verification(deps: ToolDeps) -> None:
    for name in ("get_balance", "list_payment_plans", "create_payment_link", "register_dispute"):
        result = call(deps, name, reason="x") if name == "register_dispute" else call(deps, name)
        assert result == {"ok": False, "error": "not_verified", "message": "verify identity first"}


def test_unknown_tool_and_invalid_arguments_are_refused(deps: ToolDeps) -> None:
    assert call(deps, "drop_tables")["error"] == "unknown_tool"
    bad = call(deps, "verify_identity", last4="12a4", birth_date="1979-11-23")
    assert bad["error"] == "invalid_arguments" and bad["details"][0]["field"] == "last4"


def test_verify_identity_matches_exactly_one_account(deps: ToolDeps) -> None:
    ok = call(deps, "verify_identity", last4="9054", birth_date="1979-11-23")
    assert ok["verified"] and ok["account_id"] == "CC-1003"
    wrong = call(deps, "verify_identity", last4="9054", birth_date="1979-11-24")
    assert not wrong["verified"] and "account_id" not in wrong and wrong["attempts_left"] == 2


def test_three_failures_lock_the_session(deps: ToolDeps) -> None:
    result = call(deps, "verify_identity", failures=2, last4="9054", birth_date="1980-01-01")
    assert result["session_locked"] and result["attempts_left"] == 0
    locked = call(deps, "verify_identity", failures=3, last4="9054", birth_date="1979-11-23")
    assert not locked["verified"] and locked["session_locked"]


def test_five_failures_across_sessions_lock_the_account_for_a_day(deps: ToolDeps) -> None:
    for session in range(5):
        run_tool(
            TOOLS,
            "verify_identity",
            {"last4": "9054", "birth_date": "1990-01-01"},
            deps,
            ToolContext(f"s{session}", None, 0),
        )
    right = run_tool(
        TOOLS,
        "verify_identity",
        {"last4": "9054", "birth_date": "1979-11-23"},
        deps,
        ToolContext("fresh", None, 0),
    )
    assert not right["verified"] and right["account_locked"]
    later = ToolDeps(**{**deps.__dict__, "clock": FixedClock(DEMO_NOW + timedelta(hours=25))})
    again = run_tool(
        TOOLS,
        "verify_identity",
        {"last4": "9054", "birth_date": "1979-11-23"},
        later,
        ToolContext("fresh", None, 0),
    )
    assert again["verified"]


def test_balance_reports_stored_figures(deps: ToolDeps) -> None:
    result = call(deps, "get_balance", "CC-1003")
    assert result["statement"]["total_due"] == 12_450_000
    assert result["statement"]["minimum_due"] == 1_245_000
    assert result["as_of"] == "2026-11-20" and result["minimum_offered"] is False


def test_plans_are_persisted_with_ids_expiry_and_reused(deps: ToolDeps) -> None:
    first = call(deps, "list_payment_plans", "CC-1003", tenor=6)
    six = [o for o in first["offers"] if o["offer_id"] in first["matching_offer_ids"]]
    assert [(o["plan"], o["installment"]) for o in six] == [("cicilan_tetap", 2_145_000)]
    assert six[0]["expires_at"].startswith("2026-11-30")
    second = call(deps, "list_payment_plans", "CC-1003")
    assert [o["offer_id"] for o in second["offers"]] == [o["offer_id"] for o in first["offers"]]


def test_accepting_another_accounts_offer_is_refused(deps: ToolDeps) -> None:
    offer = call(deps, "list_payment_plans", "CC-1003")["offers"][0]
    assert (
        call(deps, "accept_plan", "CC-1001", offer_id=offer["offer_id"])["error"] == "unknown_offer"
    )


def test_payment_link_for_accepted_plan_is_signed(deps: ToolDeps) -> None:
    offers = call(deps, "list_payment_plans", "CC-1003", tenor=6)
    offer_id = offers["matching_offer_ids"][0]
    assert call(deps, "accept_plan", "CC-1003", offer_id=offer_id)["accepted"]
    link = call(deps, "create_payment_link", "CC-1003", offer_id=offer_id)
    assert link["amount"] == 2_145_000 and link["url"].startswith("http://pay.test/pay/")
    claims = tokens.verify(b"k", PAYMENT_TOKEN_KIND, link["url"].rsplit("/", 1)[1], DEMO_NOW)
    assert (claims["acc"], claims["amt"], claims["offer"]) == ("CC-1003", 2_145_000, offer_id)
    with pytest.raises(tokens.TokenError):
        tokens.verify(b"other", PAYMENT_TOKEN_KIND, link["url"].rsplit("/", 1)[1], DEMO_NOW)


def test_payment_link_without_plan_names_the_amount_due(deps: ToolDeps) -> None:
    assert call(deps, "create_payment_link", "CC-1008")["amount"] == 6_526_000
    unaccepted = call(deps, "list_payment_plans", "CC-1003")["offers"][0]["offer_id"]
    assert (
        call(deps, "create_payment_link", "CC-1003", offer_id=unaccepted)["error"]
        == "offer_not_accepted"
    )


def test_promise_rules_and_replacement(deps: ToolDeps) -> None:
    too_far = call(deps, "record_promise_to_pay", "CC-1009", amount=500_000, date="2026-12-08")
    assert too_far["error"] == "date_too_far" and too_far["latest_date"] == "2026-12-07"
    assert (
        call(deps, "record_promise_to_pay", "CC-1009", amount=500_000, date="2026-11-22")["error"]
        == "date_in_past"
    )
    assert (
        call(deps, "record_promise_to_pay", "CC-1009", amount=9_000_000, date="2026-11-30")["error"]
        == "amount_above_due"
    )
    ok = call(deps, "record_promise_to_pay", "CC-1009", amount=750_000, date="2026-11-30")
    assert ok["recorded"] and ok["replaced"] == {"amount": 1_000_000, "date": "2026-11-25"}
    account = deps.store.get_account("CC-1009")
    assert account is not None and account.promise_to_pay is not None
    assert account.promise_to_pay.amount == 750_000


def test_open_dispute_is_named_never_duplicated(deps: ToolDeps) -> None:
    result = call(deps, "register_dispute", "CC-1008", reason="transaksi tidak dikenal")
    assert not result["created"] and result["reference"] == "SGH-20260925-003"
    new = call(deps, "register_dispute", "CC-1003", reason="tagihan ganda", amount=250_000)
    again = call(deps, "register_dispute", "CC-1003", reason="tagihan ganda")
    assert new["created"] and not again["created"] and again["reference"] == new["reference"]


def test_complaint_due_on_tenth_working_day(deps: ToolDeps) -> None:
    result = call(deps, "register_complaint", text="penagih kasar")
    assert result["received_on"] == "2026-11-23" and result["response_due"] == "2026-12-07"
    assert result["reference"].startswith("ADU-20261123-")


def test_handoff_works_unverified_and_passes_no_account_data(deps: ToolDeps) -> None:
    result = call(deps, "request_handoff", reason="permintaan_debitur")
    assert result["ok"] and set(result) == {"ok", "reference", "status", "queue"}
    assert call(deps, "request_handoff")["reference"] == result["reference"]


def test_today_follows_the_debtors_timezone(deps: ToolDeps) -> None:
    late = ToolDeps(**{**deps.__dict__, "clock": FixedClock(DEMO_NOW.replace(hour=23, minute=30))})
    # 23:30 WIB is already 24 November in Jayapura (WIT): the promise window starts there.
    result = run_tool(
        TOOLS,
        "record_promise_to_pay",
        {"amount": 100_000, "date": "2026-11-23"},
        late,
        ToolContext("s", "CC-1004", 0),
    )
    assert result["error"] == "date_in_past"
    assert date(2026, 11, 24).isoformat() == result["today"]
