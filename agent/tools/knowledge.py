"""``search_knowledge``: retrieve regulation and policy passages to ground an answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.tools.base import ToolContext, ToolDeps, ToolError


class SearchArgs(BaseModel):
    """A question about rules, rights or the lender's policy."""

    query: str = Field(min_length=2, max_length=500)
    k: int = Field(default=3, ge=1, le=8)


def search_knowledge(deps: ToolDeps, ctx: ToolContext, args: SearchArgs) -> dict[str, Any]:
    """Return the top passages for a query, restricted to the debtor's product when known."""
    if deps.retriever is None:
        raise ToolError("no_knowledge_base", "the knowledge index is not available")
    product = None
    if ctx.verified_account:
        account = deps.store.get_account(ctx.verified_account)
        product = account.product if account else None
    passages = deps.retriever.search(args.query, k=args.k, product=product)
    return {
        "passages": [
            {
                "id": p.id,
                "title": p.title,
                "source": p.source,
                "text": p.text,
                "score": round(float(p.score), 4),
                "current": bool(getattr(p, "current", True)),
                "effective_to": _iso(getattr(getattr(p, "passage", None), "effective_to", None)),
            }
            for p in passages
        ]
    }


def _iso(value: Any) -> str | None:
    return None if value is None else str(value)
