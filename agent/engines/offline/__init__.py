"""Embedded offline engine: deterministic NLU (intent + slots) for Indonesian chat."""

from agent.engines.offline.nlu import Slots, Understanding, understand
from agent.engines.offline.normalise import normalise

__all__ = ["Slots", "Understanding", "normalise", "understand"]
