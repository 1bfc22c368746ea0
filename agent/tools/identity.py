"""``verify_identity``: last four digits of the card or loan number plus date of birth."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field

from agent.tools.base import ToolContext, ToolDeps

SESSION_MAX_FAILURES = 3
ACCOUNT_MAX_FAILURES = 5
ACCOUNT_LOCK_WINDOW = timedelta(hours=24)


class VerifyIdentityArgs(BaseModel):
    """Verification data, parsed locally from the debtor's message."""

    last4: str = Field(pattern=r"^\d{4}$", description="Last four digits of card or loan number")
    birth_date: date = Field(description="Date of birth")


def verify_identity(deps: ToolDeps, ctx: ToolContext, args: VerifyIdentityArgs) -> dict[str, Any]:
    """Match the data against exactly one account, with session and account lockouts."""
    now = deps.clock.now()
    if ctx.failed_attempts >= SESSION_MAX_FAILURES:
        return _result(False, ctx.failed_attempts, session_locked=True)
    candidates = deps.store.accounts_with_last4(args.last4)
    matches = [acc for acc, born in candidates if born == args.birth_date]
    target = (
        matches[0] if len(matches) == 1 else (candidates[0][0] if len(candidates) == 1 else None)
    )
    if target is not None and _account_locked(deps, target, now):
        deps.store.record_verification(ctx.session_id, target, False, now)
        return _result(False, ctx.failed_attempts, account_locked=True)
    if len(matches) == 1:
        deps.store.record_verification(ctx.session_id, target, True, now)
        return {"verified": True, "account_id": target, "attempts_left": SESSION_MAX_FAILURES}
    deps.store.record_verification(ctx.session_id, target, False, now)
    failures = ctx.failed_attempts + 1
    return _result(False, failures, session_locked=failures >= SESSION_MAX_FAILURES)


def _account_locked(deps: ToolDeps, account_id: str, now: Any) -> bool:
    failures = deps.store.failures_since(account_id, now - ACCOUNT_LOCK_WINDOW)
    return failures >= ACCOUNT_MAX_FAILURES


def _result(
    verified: bool, failures: int, *, session_locked: bool = False, account_locked: bool = False
) -> dict[str, Any]:
    return {
        "verified": verified,
        "failed_attempts": failures,
        "attempts_left": max(0, SESSION_MAX_FAILURES - failures),
        "session_locked": session_locked,
        "account_locked": account_locked,
    }
