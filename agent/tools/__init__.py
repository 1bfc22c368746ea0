"""The agent's tools: the same names and schemas for every engine."""

from agent.protocols import Retriever
from agent.tools.account import (
    AcceptPlanArgs,
    ListPlansArgs,
    accept_plan,
    get_balance,
    list_payment_plans,
)
from agent.tools.base import (
    NoArgs,
    ToolContext,
    ToolDeps,
    ToolSpec,
    run_tool,
)
from agent.tools.cases import (
    ComplaintArgs,
    DisputeArgs,
    HandoffArgs,
    register_complaint,
    register_dispute,
    request_handoff,
)
from agent.tools.identity import VerifyIdentityArgs, verify_identity
from agent.tools.knowledge import SearchArgs, search_knowledge
from agent.tools.payments import (
    PaymentLinkArgs,
    PromiseArgs,
    create_payment_link,
    record_promise_to_pay,
)

TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "verify_identity",
            "Verify the debtor: last four digits and date of birth.",
            VerifyIdentityArgs,
            verify_identity,
            needs_account=False,
        ),
        ToolSpec(
            "get_balance",
            "Stored balance, due date and minimum of the verified account.",
            NoArgs,
            get_balance,
            needs_account=True,
        ),
        ToolSpec(
            "list_payment_plans",
            "Payment plans the lender's policy allows, with offer ids.",
            ListPlansArgs,
            list_payment_plans,
            needs_account=True,
        ),
        ToolSpec(
            "accept_plan",
            "Accept one offered plan by its offer id.",
            AcceptPlanArgs,
            accept_plan,
            needs_account=True,
        ),
        ToolSpec(
            "create_payment_link",
            "Signed payment link for an accepted plan or the amount due.",
            PaymentLinkArgs,
            create_payment_link,
            needs_account=True,
        ),
        ToolSpec(
            "record_promise_to_pay",
            "Record a promise to pay an amount on a date.",
            PromiseArgs,
            record_promise_to_pay,
            needs_account=True,
        ),
        ToolSpec(
            "register_dispute",
            "Open a dispute or name the open one.",
            DisputeArgs,
            register_dispute,
            needs_account=True,
        ),
        ToolSpec(
            "register_complaint",
            "Register a complaint with its response due date.",
            ComplaintArgs,
            register_complaint,
            needs_account=False,
        ),
        ToolSpec(
            "request_handoff",
            "Hand the conversation to a human agent.",
            HandoffArgs,
            request_handoff,
            needs_account=False,
        ),
        ToolSpec(
            "search_knowledge",
            "Retrieve regulation and policy passages to cite.",
            SearchArgs,
            search_knowledge,
            needs_account=False,
        ),
    )
}

__all__ = ["TOOLS", "Retriever", "ToolContext", "ToolDeps", "ToolSpec", "run_tool"]
