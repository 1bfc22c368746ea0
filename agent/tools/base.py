"""The tool seam: typed arguments, dependencies, verification gate and one dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.clock import Clock, local_today
from agent.policy import Policy
from agent.portfolio import Account
from agent.protocols import Retriever
from agent.storage import CaseBook, Store


@dataclass(frozen=True)
class ToolDeps:
    """What tools need from the outside world; built once by entry points."""

    store: Store
    cases: CaseBook
    policy: Policy
    clock: Clock
    signing_key: bytes
    public_url: str
    retriever: Retriever | None = None


@dataclass(frozen=True)
class ToolContext:
    """The conversation facts a tool may rely on."""

    session_id: str
    verified_account: str | None
    failed_attempts: int = 0


class ToolError(Exception):
    """A refusal with a machine-readable code and an English reason."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        """Create a refusal."""
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


ToolFunc = Callable[[ToolDeps, ToolContext, Any], dict[str, Any]]


@dataclass(frozen=True)
class ToolSpec:
    """A tool's name, description, argument model and implementation."""

    name: str
    description: str
    args_model: type[BaseModel]
    func: ToolFunc
    needs_account: bool


class NoArgs(BaseModel):
    """A tool that takes no arguments."""


def account_for(deps: ToolDeps, ctx: ToolContext) -> Account:
    """Return the verified account of the session, or refuse."""
    if ctx.verified_account is None:
        raise ToolError("not_verified", "identity not verified for this session")
    account = deps.store.get_account(ctx.verified_account)
    if account is None:
        raise ToolError("unknown_account", "verified account no longer exists")
    return account


def today_for(deps: ToolDeps, account: Account | None) -> date:
    """Return today's date in the debtor's timezone (WIB when unknown)."""
    return local_today(deps.clock, account.timezone if account else None)


def run_tool(
    registry: dict[str, ToolSpec],
    name: str,
    raw_args: dict[str, Any] | None,
    deps: ToolDeps,
    ctx: ToolContext,
) -> dict[str, Any]:
    """Validate and run one tool call; refusals come back as ``{"ok": false, ...}`` results."""
    spec = registry.get(name)
    if spec is None:
        return {"ok": False, "error": "unknown_tool", "message": f"no tool named {name!r}"}
    try:
        args = spec.args_model.model_validate(raw_args or {})
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])), "msg": e["msg"]} for e in exc.errors()]
        return {"ok": False, "error": "invalid_arguments", "details": errors}
    if spec.needs_account and ctx.verified_account is None:
        return {"ok": False, "error": "not_verified", "message": "verify identity first"}
    try:
        return {"ok": True, **spec.func(deps, ctx, args)}
    except ToolError as exc:
        return {"ok": False, "error": exc.code, "message": exc.message, **exc.details}
