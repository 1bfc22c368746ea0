"""The facts of a turn that contextual checks need, and how to read them from JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class GuardContext:
    """What the guardrail knows about the conversation when it checks a draft.

    Attributes:
        verified: the session is verified for the account the draft talks about.
        known_amounts: rupiah amounts returned by this turn's tools (account figures).
        public_amounts: amounts from regulation or policy that anyone may be told.
        offers: plan ids the offer engine returned this turn (discounts only from these).
        outbound: the message is proactive (the debtor did not write first).
        local_time: the debtor's local time when the message would be sent.
        consent_after_hours: the debtor gave prior consent to contact 06:00-22:00 Mon-Sat.
        sent_today: outbound messages already sent to the debtor today (local day).
        sent_this_week: outbound messages already sent in the last 7 days.
        distress: the debtor showed distress or self-harm risk in this conversation.
        speaker: who the agent is talking to: the debtor or a third party.
        product: the account's product, when known.
        kol: the account's collectability grade (1-5), when known.
        check_amounts: whether amounts must be grounded (on inside the agent).
        cited: texts quoted verbatim from reviewed knowledge passages; contextual checks
            (account facts, discounts) do not apply inside them, wording rules still do.
    """

    verified: bool = False
    known_amounts: frozenset[int] = field(default_factory=frozenset)
    public_amounts: frozenset[int] = field(default_factory=frozenset)
    offers: frozenset[str] = field(default_factory=frozenset)
    outbound: bool = False
    local_time: datetime | None = None
    consent_after_hours: bool = False
    sent_today: int = 0
    sent_this_week: int = 0
    distress: bool = False
    speaker: str = "debtor"
    product: str | None = None
    kol: int | None = None
    check_amounts: bool = True
    cited: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GuardContext:
        """Build a context from a ``santun guard`` input line's ``"context"`` object.

        Raises:
            ValueError: on an unknown key or a value of the wrong type.
        """
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown context keys: {sorted(unknown)}")
        values: dict[str, Any] = dict(data)
        for key in ("known_amounts", "public_amounts"):
            if key in values:
                values[key] = frozenset(int(v) for v in values[key])
        if "cited" in values:
            values["cited"] = tuple(str(v) for v in values["cited"])
        if "offers" in values:
            values["offers"] = frozenset(str(v) for v in values["offers"])
        if values.get("local_time") is not None:
            values["local_time"] = datetime.fromisoformat(str(values["local_time"]))
        for key in ("sent_today", "sent_this_week"):
            if key in values:
                values[key] = int(values[key])
        if values.get("kol") is not None:
            values["kol"] = int(values["kol"])
        return cls(**values)
