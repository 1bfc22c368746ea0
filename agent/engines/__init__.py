"""Conversation engines for the Santun agent."""

__all__: list[str] = []
