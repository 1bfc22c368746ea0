"""The guardrail: rules as data, normalised matching, contextual checks, frozen verdicts."""

from guardrails.checker import ComplianceGuard
from guardrails.context import GuardContext
from guardrails.verdict import Verdict, Violation

__all__ = ["ComplianceGuard", "GuardContext", "Verdict", "Violation"]
