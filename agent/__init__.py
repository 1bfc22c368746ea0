"""Santun: a compliant Indonesian debt-collection chat agent."""

__all__ = ["__version__"]

__version__ = "0.1.0"
