"""Persistence: SQLAlchemy models, the store and the case book."""

from agent.storage.cases import CaseBook
from agent.storage.database import init_database, make_engine
from agent.storage.payments import PaymentBook
from agent.storage.repository import Store

__all__ = ["CaseBook", "PaymentBook", "Store", "init_database", "make_engine"]
