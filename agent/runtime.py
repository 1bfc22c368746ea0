"""Builds the real service from settings; used only by entry points (web, CLI, benchmarks)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agent.clock import Clock, clock_for, local_today
from agent.config import Settings
from agent.engines.base import Engine
from agent.engines.offline.engine import OfflineEngine
from agent.graph import build_graph
from agent.policy import load_policy
from agent.portfolio import load_portfolio
from agent.protocols import Retriever
from agent.service import ChatService
from agent.storage import CaseBook, Store, init_database, make_engine
from agent.storage.checkpoints import InlineSqliteSaver
from agent.tools import ToolDeps
from guardrails import ComplianceGuard
from knowledge.index import open_retriever

log = logging.getLogger("santun")


class LazyRetriever:
    """Opens the knowledge index on first use (the CLI chat may never need it)."""

    def __init__(self, factory: Callable[[], Retriever]) -> None:
        """Remember how to open the retriever."""
        self._factory = factory
        self._retriever: Retriever | None = None

    def load(self) -> Retriever:
        """Open the index now (refreshing what changed) and keep it."""
        if self._retriever is None:
            self._retriever = self._factory()
        return self._retriever

    def search(self, query: str, k: int = 3, product: str | None = None) -> list[Any]:
        """Search, opening the index first if needed."""
        return self.load().search(query, k=k, product=product)


@asynccontextmanager
async def open_service(
    settings: Settings,
    *,
    persist_checkpoints: bool = True,
    engine_factory: Callable[[Clock], Engine] | None = None,
    eager_retriever: bool = False,
) -> AsyncIterator[ChatService]:
    """Open the database, load demo data on first run, build the graph, yield the service."""
    if settings.resolved_engine == "llm":
        log.warning("LLM engine not available in this build; the offline engine answers")
    clock = clock_for(settings.now)
    db_engine = make_engine(settings.resolved_database_url())
    factory = init_database(db_engine, load_portfolio())
    store = Store(factory)
    retriever = LazyRetriever(
        lambda: open_retriever(
            settings.resolved_index_dir,
            settings.chroma_url,
            lambda: local_today(clock, None),
            settings.embedder,
        )
    )
    if eager_retriever:
        retriever.load()
    deps = ToolDeps(
        store=store,
        cases=CaseBook(factory),
        policy=load_policy(),
        clock=clock,
        signing_key=settings.signing_key(),
        public_url=settings.base_public_url(),
        retriever=retriever,
    )
    engine = (
        engine_factory(clock)
        if engine_factory is not None
        else OfflineEngine(clock, max_chars=settings.max_message_chars)
    )
    guard = ComplianceGuard()
    try:
        if persist_checkpoints:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            with InlineSqliteSaver.open(settings.checkpoint_path) as saver:
                yield _service(settings, engine, guard, deps, store, saver)
        else:
            yield _service(settings, engine, guard, deps, store, InMemorySaver())
    finally:
        db_engine.dispose()


def _service(
    settings: Settings,
    engine: Engine,
    guard: ComplianceGuard,
    deps: ToolDeps,
    store: Store,
    saver: InlineSqliteSaver | InMemorySaver,
) -> ChatService:
    graph = build_graph(
        engine=engine,
        guard=guard,
        deps=deps,
        checkpointer=saver,
        max_regenerations=settings.guard_max_regenerations,
        max_chars=settings.max_message_chars,
    )
    return ChatService(
        graph=graph,
        engine=engine,
        guard=guard,
        store=store,
        clock=deps.clock,
        signing_key=deps.signing_key,
    )
