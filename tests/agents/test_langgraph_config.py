"""infra/langgraph.json names the compiled graph so LangGraph's server and Studio can load it."""

from __future__ import annotations

import json
from pathlib import Path

from langgraph.graph.state import CompiledStateGraph

from agents.context import Context
from tests.conftest import load_script

INFRA = Path(__file__).resolve().parents[2] / "infra"


def test_config_points_at_the_compiled_graph() -> None:
    config = json.loads((INFRA / "langgraph.json").read_text())
    module_path, _, attribute = config["graphs"]["triage"].partition(":")
    path = (INFRA / module_path).resolve()
    assert path.is_file()
    graph = getattr(load_script(path, "langgraph_config_graph"), attribute)
    assert isinstance(graph, CompiledStateGraph)
    assert list(graph.get_graph().nodes) == [
        "__start__", "intake", "classify", "retrieve", "agent", "tools", "verify", "propose", "guard",
        "human_review", "apply", "record", "__end__",
    ]  # fmt: skip
    assert graph.builder.context_schema is Context
    # The server derives the run context's schema: {"model": "..."} must be describable.
    schema = graph.get_context_jsonschema()
    assert schema is not None and schema["properties"]["model"]["type"] == "string"
    assert all((INFRA / dep).resolve().is_dir() for dep in config["dependencies"])
