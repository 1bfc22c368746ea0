"""The guardrail's answer: a frozen verdict with the violations found."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One broken rule, with where in the text it was found."""

    rule: str
    category: str
    span: tuple[int, int]
    message: str
    severity: str = "block"
    basis: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of ``santun guard`` and the HTTP API."""
        data = asdict(self)
        data["span"] = list(self.span)
        return data


@dataclass(frozen=True)
class Verdict:
    """Whether a draft may be sent, and why not."""

    allowed: bool
    violations: tuple[Violation, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"allowed": self.allowed, "violations": [v.to_dict() for v in self.violations]}
