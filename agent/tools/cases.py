"""Case tools: ``register_dispute``, ``register_complaint``, ``request_handoff``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.tools.base import ToolContext, ToolDeps, account_for, today_for
from agent.workdays import add_working_days

COMPLAINT_RESPONSE_WORKING_DAYS = 10


class DisputeArgs(BaseModel):
    """The disputed transaction or amount, in the debtor's words."""

    reason: str = Field(min_length=1, max_length=1000)
    amount: int | None = Field(default=None, ge=1)


def register_dispute(deps: ToolDeps, ctx: ToolContext, args: DisputeArgs) -> dict[str, Any]:
    """Open a dispute, or name the open one instead of opening a duplicate."""
    account = account_for(deps, ctx)
    existing = deps.cases.open_dispute(account.account_id)
    row = existing or deps.cases.add_dispute(
        account.account_id, args.reason, args.amount, today_for(deps, account), ctx.session_id
    )
    return {
        "created": existing is None,
        "reference": row.reference,
        "status": row.status,
        "opened": row.opened.isoformat(),
        "amount": row.amount,
    }


class ComplaintArgs(BaseModel):
    """A complaint in the debtor's words."""

    text: str = Field(min_length=1, max_length=4000)
    category: str = Field(default="layanan", max_length=40)


def register_complaint(deps: ToolDeps, ctx: ToolContext, args: ComplaintArgs) -> dict[str, Any]:
    """Register a complaint; the answer is due on the 10th working day after receipt."""
    account = deps.store.get_account(ctx.verified_account) if ctx.verified_account else None
    received = today_for(deps, account)
    due = add_working_days(received, COMPLAINT_RESPONSE_WORKING_DAYS)
    row = deps.cases.add_complaint(
        {
            "account_id": ctx.verified_account,
            "session_id": ctx.session_id,
            "category": args.category,
            "text": args.text,
        },
        received,
        due,
    )
    return {
        "reference": row.reference,
        "received_on": received.isoformat(),
        "response_due": due.isoformat(),
        "working_days": COMPLAINT_RESPONSE_WORKING_DAYS,
    }


class HandoffArgs(BaseModel):
    """Why a human is needed."""

    reason: str = Field(default="permintaan_debitur", max_length=40)


def request_handoff(deps: ToolDeps, ctx: ToolContext, args: HandoffArgs) -> dict[str, Any]:
    """Queue the conversation for a human agent; the result carries no account data."""
    row = deps.cases.add_handoff(
        ctx.session_id, ctx.verified_account, args.reason, deps.clock.now()
    )
    return {"reference": row.reference, "status": row.status, "queue": "petugas_layanan"}
