"""Payment tools: ``create_payment_link`` and ``record_promise_to_pay``."""

from __future__ import annotations

import datetime as dt
import secrets
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from agent import tokens
from agent.storage.models import OfferRow, PaymentLinkRow
from agent.tools.base import ToolContext, ToolDeps, ToolError, account_for, today_for

PAYMENT_TOKEN_KIND = "pay"


class PaymentLinkArgs(BaseModel):
    """What the link is for: an accepted offer, an explicit amount, or the amount due."""

    offer_id: str | None = Field(default=None, description="An accepted offer id")
    amount: int | None = Field(default=None, ge=1, description="Rupiah, at most the amount due")


def create_payment_link(deps: ToolDeps, ctx: ToolContext, args: PaymentLinkArgs) -> dict[str, Any]:
    """Issue an HMAC-signed payment link valid for the policy's link lifetime."""
    account = account_for(deps, ctx)
    now = deps.clock.now()
    amount_due = account.total_due - account.open_dispute_amount
    offer = _accepted_offer(deps, account.account_id, args.offer_id, now) if args.offer_id else None
    if offer is not None:
        amount, purpose = offer.amount, offer.plan
    elif args.amount is not None:
        if args.amount > amount_due:
            raise ToolError(
                "amount_above_due", "amount exceeds the amount due", amount_due=amount_due
            )
        amount, purpose = args.amount, "pembayaran_sebagian"
    else:
        amount, purpose = amount_due, "tagihan"
    if amount <= 0:
        raise ToolError("nothing_to_pay", "this plan needs no payment now")
    expires = now + timedelta(hours=deps.policy.payment_link_validity_hours)
    link_id = f"PL-{secrets.token_hex(5).upper()}"
    claims = {"acc": account.account_id, "amt": amount, "offer": args.offer_id, "lid": link_id}
    token = tokens.sign(deps.signing_key, PAYMENT_TOKEN_KIND, claims, expires)
    deps.cases.add_payment_link(
        PaymentLinkRow(
            link_id=link_id,
            account_id=account.account_id,
            offer_id=args.offer_id,
            amount=amount,
            token=token,
            created_at=now,
            expires_at=expires,
        )
    )
    return {
        "link_id": link_id,
        "url": f"{deps.public_url}/pay/{token}",
        "amount": amount,
        "purpose": purpose,
        "offer_id": args.offer_id,
        "expires_at": expires.isoformat(),
        "amount_due": amount_due,
    }


def _accepted_offer(deps: ToolDeps, account_id: str, offer_id: str, now: Any) -> OfferRow:
    row = deps.cases.get_offer(offer_id)
    if row is None or row.account_id != account_id:
        raise ToolError("unknown_offer", "no such offer for this account")
    if row.status != "accepted" or row.accepted_at is None:
        raise ToolError("offer_not_accepted", "accept the offer before paying it")
    window = row.details.get("pay_within_days")
    if window and row.accepted_at + timedelta(days=int(window)) < now:
        raise ToolError("offer_expired", "the settlement window is over")
    return row


class PromiseArgs(BaseModel):
    """A promise to pay: how much and when."""

    amount: int = Field(ge=1, description="Rupiah")
    date: dt.date = Field(description="The promised payment date")


def record_promise_to_pay(deps: ToolDeps, ctx: ToolContext, args: PromiseArgs) -> dict[str, Any]:
    """Record a promise within the policy's rules; a new one replaces the open one."""
    account = account_for(deps, ctx)
    rules = deps.policy.promises_to_pay
    today = today_for(deps, account)
    latest = today + timedelta(days=rules.max_days_ahead)
    if args.date < today:
        raise ToolError("date_in_past", "the date has passed", today=today.isoformat())
    if args.date > latest:
        raise ToolError("date_too_far", "the date is too far ahead", latest_date=latest.isoformat())
    if args.amount < rules.min_amount:
        raise ToolError("amount_too_low", "the amount is below the minimum")
    if args.amount > account.total_due:
        raise ToolError(
            "amount_above_due", "more than the amount due", amount_due=account.total_due
        )
    row, replaced = deps.cases.record_promise(
        account.account_id, args.amount, args.date, deps.clock.now(), ctx.session_id
    )
    return {
        "recorded": True,
        "amount": row.amount,
        "date": row.promised_date.isoformat(),
        "replaced": None
        if replaced is None
        else {"amount": replaced.amount, "date": replaced.promised_date.isoformat()},
    }
