"""Helpers shared by nodes: the toolbox and model spec of a run."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agents.context import Context, default_model_spec
from agents.state import TriageState
from agents.toolbox import Toolbox, langgraph_server_toolbox


def toolbox_of(runtime: Runtime[Context] | None) -> Toolbox:
    """The run's toolbox, or the LangGraph server's (its and Studio's runs carry none in their context)."""
    context = runtime.context if runtime is not None else None
    if context is not None and context.toolbox is not None:
        return context.toolbox
    return langgraph_server_toolbox()


def model_of(state: TriageState, runtime: Runtime[Context] | None) -> str:
    """The thread's model spec: fixed at start so a resumed thread keeps its planner."""
    if state.get("model"):
        return str(state["model"])
    context = runtime.context if runtime is not None else None
    return context.model if context is not None else default_model_spec()
