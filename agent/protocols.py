"""The seams the graph depends on: a guard and a retriever, whatever implements them."""

from __future__ import annotations

from typing import Any, Protocol

from guardrails.context import GuardContext
from guardrails.verdict import Verdict


class Guard(Protocol):
    """Checks a draft reply and returns a frozen verdict."""

    @property
    def version(self) -> str:
        """The rule catalogue's version, recorded with every verdict in the audit trail."""
        ...

    def check(self, text: str, context: GuardContext | None = None) -> Verdict:
        """Return whether the draft may be sent, with the violations found."""
        ...


class Passage(Protocol):
    """A retrieved knowledge passage."""

    id: str
    title: str
    source: str
    text: str
    score: float


class Retriever(Protocol):
    """Finds the passages that ground an answer about rules or policy."""

    def search(self, query: str, k: int = 3, product: str | None = None) -> list[Any]:
        """Return up to ``k`` passages for a query, for a product when given."""
        ...
