"""Builds the real service from settings; used only by entry points (web, CLI, benchmarks)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from openai import AsyncOpenAI

from agent.clock import Clock, clock_for, local_today
from agent.config import Settings
from agent.engines.base import Engine
from agent.engines.llm.client import ChatModel, ModelSettings
from agent.engines.llm.engine import LlmEngine
from agent.engines.offline.engine import OfflineEngine
from agent.graph import NodeObserver, build_graph
from agent.policy import load_policy
from agent.portfolio import load_portfolio
from agent.prompts import load_prompts
from agent.protocols import Retriever
from agent.service import ChatService
from agent.storage import CaseBook, PaymentBook, Store, init_database, make_engine
from agent.storage.checkpoints import open_checkpointer
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
    guard: ComplianceGuard | None = None,
    retriever: Retriever | None = None,
    observer: NodeObserver | None = None,
) -> AsyncIterator[ChatService]:
    """Open the database, load demo data on first run, build the graph, yield the service.

    ``guard`` and ``retriever`` may be passed in already built (evals open many services);
    ``observer`` is told every graph node's run time.
    """
    clock = clock_for(settings.now)
    db_engine = make_engine(settings.resolved_database_url())
    factory = init_database(db_engine, load_portfolio())
    store = Store(factory)
    payments = PaymentBook(factory)
    knowledge = retriever or LazyRetriever(
        lambda: open_retriever(
            settings.resolved_index_dir,
            settings.chroma_url,
            lambda: local_today(clock, None),
            settings.embedder,
        )
    )
    if eager_retriever and isinstance(knowledge, LazyRetriever):
        knowledge.load()
    deps = ToolDeps(
        store=store,
        cases=CaseBook(factory),
        policy=load_policy(),
        clock=clock,
        signing_key=settings.signing_key(),
        public_url=settings.base_public_url(),
        retriever=knowledge,
    )
    engine = (
        engine_factory(clock) if engine_factory is not None else make_engine_for(settings, clock)
    )
    guard = guard or ComplianceGuard()
    try:
        if persist_checkpoints:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            async with open_checkpointer(settings.database_url, settings.checkpoint_path) as saver:
                yield _service(settings, engine, guard, deps, store, saver, payments, observer)
        else:
            yield _service(
                settings, engine, guard, deps, store, InMemorySaver(), payments, observer
            )
    finally:
        if isinstance(engine, LlmEngine):
            await engine.aclose()
        db_engine.dispose()


def make_engine_for(settings: Settings, clock: Clock) -> Engine:
    """The engine the settings ask for: the LLM engine (offline behind it), or offline alone.

    Raises:
        PromptError: ``SANTUN_PROMPT_VARIANT`` names no variant.
    """
    offline = OfflineEngine(clock, max_chars=settings.max_message_chars)
    if settings.resolved_engine == "offline":
        return offline
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    client = AsyncOpenAI(
        api_key=key or "not-needed",  # local servers (Ollama, vLLM) accept any key
        base_url=settings.llm_base_url,
        max_retries=0,  # retries are the engine's, inside the turn's budget
        timeout=settings.llm_call_timeout,
    )
    model = ChatModel(
        client,
        ModelSettings(
            model=settings.llm_model,
            temperature=settings.llm_temperature,
            call_timeout=settings.llm_call_timeout,
            max_retries=settings.llm_max_retries,
        ),
    )
    log.info("LLM engine: model %s at %s", settings.llm_model, settings.llm_base_url or "OpenAI")
    return LlmEngine(
        model,
        load_prompts(settings.prompt_variant),
        offline,
        turn_budget=settings.llm_timeout,
        max_prompt_tokens=settings.llm_max_prompt_tokens,
    )


def _service(
    settings: Settings,
    engine: Engine,
    guard: ComplianceGuard,
    deps: ToolDeps,
    store: Store,
    saver: BaseCheckpointSaver[Any],
    payments: PaymentBook,
    observer: NodeObserver | None = None,
) -> ChatService:
    graph = build_graph(
        engine=engine,
        guard=guard,
        deps=deps,
        checkpointer=saver,
        max_regenerations=settings.guard_max_regenerations,
        max_chars=settings.max_message_chars,
        observer=observer,
    )
    return ChatService(
        graph=graph,
        engine=engine,
        guard=guard,
        store=store,
        clock=deps.clock,
        signing_key=deps.signing_key,
        payments=payments,
    )
