"""Wiring of one turn: screen -> understand -> decide <-> tools -> compose -> guard -> respond."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent import nodes
from agent.engines.base import Engine
from agent.protocols import Guard
from agent.state import AgentState
from agent.tools import ToolDeps

NodeObserver = Callable[[str, float], None]
"""Told each node's name and its run time in milliseconds (evals, profiling)."""


def _observed(name: str, node: Any, observer: NodeObserver) -> Any:
    async def run(state: AgentState) -> Any:
        started = time.perf_counter()
        try:
            return await node(state)
        finally:
            observer(name, (time.perf_counter() - started) * 1000)

    return run


def build_graph(
    *,
    engine: Engine,
    guard: Guard,
    deps: ToolDeps,
    checkpointer: BaseCheckpointSaver[Any] | None,
    max_regenerations: int = 2,
    max_chars: int = 4000,
    observer: NodeObserver | None = None,
) -> CompiledStateGraph[AgentState, Any, AgentState, AgentState]:
    """Build the compiled turn graph from injected dependencies."""
    graph = StateGraph(AgentState)

    def node(name: str, action: Any) -> None:
        graph.add_node(name, _observed(name, action, observer) if observer else action)

    node("screen", partial(nodes.screen_input, max_chars=max_chars))
    node("understand", partial(nodes.understand, engine=engine))
    node("decide", partial(nodes.decide, engine=engine, guard=guard))
    node("tools", partial(nodes.run_tools, deps=deps))
    node("compose", partial(nodes.compose, engine=engine, guard=guard))
    node("guard", partial(nodes.check_draft, guard=guard))
    node("fallback", partial(nodes.fallback, engine=engine, guard=guard))
    node("respond", nodes.respond)
    graph.add_edge(START, "screen")
    graph.add_conditional_edges("screen", nodes.route_after_screen, ["understand", "compose"])
    graph.add_edge("understand", "decide")
    graph.add_conditional_edges("decide", nodes.route_after_decide, ["tools", "compose"])
    graph.add_edge("tools", "decide")
    graph.add_edge("compose", "guard")
    graph.add_conditional_edges(
        "guard",
        partial(nodes.route_after_guard, max_regenerations=max_regenerations),
        ["respond", "compose", "fallback"],
    )
    graph.add_edge("fallback", "respond")
    graph.add_edge("respond", END)
    return graph.compile(checkpointer=checkpointer)
