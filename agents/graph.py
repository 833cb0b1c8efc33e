"""The triage graph: intake -> classify -> retrieve -> agent <-> tools -> verify -> propose -> guard ->
human_review (interrupt) -> apply -> record.

``agent`` and ``tools`` are LangGraph's tool loop: the model node asks for calls, a ``ToolNode`` runs
them, a conditional edge loops back until no call is asked for or the step budget is spent
(:func:`agents.nodes.agent.route`). With ``playbook`` the same loop runs the procedure's steps. The
playbook then verifies whatever the loop produced (:mod:`agents.nodes.verify`), and the guard has
the last word.

``graph`` is compiled without a checkpointer for LangGraph's own server and Studio
(``infra/langgraph.json``), which supply theirs; :class:`agents.runner.TriageRunner` compiles
:func:`build_graph` with SQLite or PostgreSQL checkpoints.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from agents.context import Context
from agents.loop import tool_node
from agents.nodes.agent import agent, route
from agents.nodes.apply import apply
from agents.nodes.classify import classify
from agents.nodes.guard import guard
from agents.nodes.human_review import human_review
from agents.nodes.intake import intake
from agents.nodes.propose import propose
from agents.nodes.record import record
from agents.nodes.retrieve import retrieve
from agents.nodes.verify import verify
from agents.state import TriageState

BEFORE_LOOP = (("intake", intake), ("classify", classify), ("retrieve", retrieve))
AFTER_LOOP = (
    ("verify", verify),
    ("propose", propose),
    ("guard", guard),
    ("human_review", human_review),
    ("apply", apply),
    ("record", record),
)


def build_graph() -> StateGraph[TriageState, Context, TriageState, TriageState]:
    builder: StateGraph[TriageState, Context, TriageState, TriageState] = StateGraph(
        TriageState, context_schema=Context
    )
    previous = START
    for name, node in BEFORE_LOOP:
        builder.add_node(name, node)
        builder.add_edge(previous, name)
        previous = name
    builder.add_node("agent", agent)
    builder.add_node("tools", tool_node())
    builder.add_edge(previous, "agent")
    builder.add_conditional_edges("agent", route, {"tools": "tools", "verify": "verify"})
    builder.add_edge("tools", "agent")
    previous = "agent"
    for name, after in AFTER_LOOP:
        builder.add_node(name, after)
        if name != "verify":  # verify is reached from the loop's conditional edge
            builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder


graph = build_graph().compile(name="repairdesk-triage")
