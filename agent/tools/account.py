"""Account tools: ``get_balance``, ``list_payment_plans`` and ``accept_plan``."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from agent.offers import Offer, compute_offers
from agent.portfolio import Account
from agent.storage.models import OfferRow
from agent.tools.base import NoArgs, ToolContext, ToolDeps, ToolError, account_for


def get_balance(deps: ToolDeps, ctx: ToolContext, _args: NoArgs) -> dict[str, Any]:
    """Return the stored figures of the verified account (as of the portfolio date)."""
    account = account_for(deps, ctx)
    result: dict[str, Any] = {
        "account_id": account.account_id,
        "product": account.product,
        "holder_name": account.holder_name,
        "as_of": str(deps.store.as_of(account.account_id)),
        "dpd": account.dpd,
        "total_due": account.total_due,
        "amount_due": account.total_due - account.open_dispute_amount,
        "last_payment": account.last_payment.model_dump(mode="json"),
        "dispute": account.dispute.model_dump(mode="json") if account.dispute else None,
        "promise_to_pay": (
            account.promise_to_pay.model_dump(mode="json") if account.promise_to_pay else None
        ),
    }
    if account.statement is not None:
        result["statement"] = account.statement.model_dump(mode="json")
        result["minimum_offered"] = account.dpd <= 30
    if account.loan is not None:
        result["loan"] = account.loan.model_dump(mode="json")
    return result


class ListPlansArgs(BaseModel):
    """Which plans to show."""

    tenor: int | None = Field(default=None, ge=1, le=60, description="Tenor the debtor asked for")
    hardship: bool = Field(default=False, description="Debtor stated financial hardship")


def list_payment_plans(deps: ToolDeps, ctx: ToolContext, args: ListPlansArgs) -> dict[str, Any]:
    """Return the offers the policy allows, persisted with ids and expiry."""
    account = account_for(deps, ctx)
    now = deps.clock.now()
    live = {
        _offer_key(r.plan, r.tenor_months, r.amount): r
        for r in deps.cases.live_offers(account.account_id, now)
    }
    rows: list[OfferRow] = []
    fresh: list[OfferRow] = []
    expires = now + timedelta(days=deps.policy.offer_validity_days)
    for offer in compute_offers(account, deps.policy):
        row = live.get(_offer_key(offer.plan, offer.tenor_months, offer.amount))
        if row is None:
            row = _new_offer_row(account, offer, ctx.session_id, now, expires)
            fresh.append(row)
        rows.append(row)
    deps.cases.add_offers(fresh)
    result: dict[str, Any] = {
        "account_id": account.account_id,
        "offers": [offer_view(r) for r in rows],
        "requested_tenor": args.tenor,
    }
    if args.tenor is not None:
        result["matching_offer_ids"] = [r.offer_id for r in rows if r.tenor_months == args.tenor]
    if args.hardship:
        result["hardship_review"] = deps.cases.add_hardship_review(
            account.account_id, ctx.session_id, now
        )
    return result


def _offer_key(plan: str, tenor: int | None, amount: int) -> tuple[str, int | None, int]:
    return (plan, tenor, amount)


def _new_offer_row(
    account: Account, offer: Offer, session_id: str, now: datetime, expires: datetime
) -> OfferRow:
    return OfferRow(
        offer_id=f"OF-{secrets.token_hex(4).upper()}",
        account_id=account.account_id,
        plan=offer.plan,
        amount=offer.amount,
        tenor_months=offer.tenor_months,
        details=offer.model_dump(mode="json"),
        created_at=now,
        expires_at=expires,
        status="offered",
        session_id=session_id,
    )


def offer_view(row: OfferRow) -> dict[str, Any]:
    """The JSON a tool returns for one persisted offer."""
    return {
        **row.details,
        "offer_id": row.offer_id,
        "status": row.status,
        "expires_at": row.expires_at.isoformat(),
    }


class AcceptPlanArgs(BaseModel):
    """The offer the debtor chose."""

    offer_id: str = Field(min_length=3, max_length=40)


def accept_plan(deps: ToolDeps, ctx: ToolContext, args: AcceptPlanArgs) -> dict[str, Any]:
    """Accept one of the account's live offers."""
    account = account_for(deps, ctx)
    now = deps.clock.now()
    row = deps.cases.get_offer(args.offer_id)
    if row is None or row.account_id != account.account_id:
        raise ToolError("unknown_offer", "no such offer for this account")
    if row.expires_at <= now:
        raise ToolError("offer_expired", "the offer has expired; list plans again")
    accepted = deps.cases.accept_offer(row.offer_id, now)
    if accepted is None:
        raise ToolError("offer_closed", "the offer is no longer open")
    return {"accepted": True, "offer": offer_view(accepted)}
