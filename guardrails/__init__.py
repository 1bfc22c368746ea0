"""The guardrail: rules as data, pure checks, frozen verdicts."""

from guardrails.checker import ComplianceGuard, GuardContext
from guardrails.verdict import Verdict, Violation

__all__ = ["ComplianceGuard", "GuardContext", "Verdict", "Violation"]
