"""Wiring of one turn: screen -> understand -> decide <-> tools -> compose -> guard -> respond."""

from __future__ import annotations

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


def build_graph(
    *,
    engine: Engine,
    guard: Guard,
    deps: ToolDeps,
    checkpointer: BaseCheckpointSaver[Any] | None,
    max_regenerations: int = 2,
    max_chars: int = 4000,
) -> CompiledStateGraph[AgentState, Any, AgentState, AgentState]:
    """Build the compiled turn graph from injected dependencies."""
    graph = StateGraph(AgentState)
    graph.add_node("screen", partial(nodes.screen_input, max_chars=max_chars))
    graph.add_node("understand", partial(nodes.understand, engine=engine))
    graph.add_node("decide", partial(nodes.decide, engine=engine, guard=guard))
    graph.add_node("tools", partial(nodes.run_tools, deps=deps))
    graph.add_node("compose", partial(nodes.compose, engine=engine, guard=guard))
    graph.add_node("guard", partial(nodes.check_draft, guard=guard))
    graph.add_node("fallback", partial(nodes.fallback, engine=engine, guard=guard))
    graph.add_node("respond", nodes.respond)
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
