"""The triage graph: intake -> classify -> retrieve -> plan_and_act -> propose -> guard ->
human_review (interrupt) -> apply -> record.

``graph`` is compiled without a checkpointer for LangGraph's own server and Studio
(``infra/langgraph.json``), which supply theirs; :class:`agents.runner.TriageRunner` compiles
:func:`build_graph` with SQLite or PostgreSQL checkpoints.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from agents.context import Context
from agents.nodes.apply import apply
from agents.nodes.classify import classify
from agents.nodes.guard import guard
from agents.nodes.human_review import human_review
from agents.nodes.intake import intake
from agents.nodes.plan_and_act import plan_and_act
from agents.nodes.propose import propose
from agents.nodes.record import record
from agents.nodes.retrieve import retrieve
from agents.state import TriageState

NODES = (
    ("intake", intake),
    ("classify", classify),
    ("retrieve", retrieve),
    ("plan_and_act", plan_and_act),
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
    for name, node in NODES:
        builder.add_node(name, node)
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder


graph = build_graph().compile(name="repairdesk-triage")
