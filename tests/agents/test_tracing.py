"""A triage run becomes OpenTelemetry spans (nodes, model and tool calls) only when tracing is set up."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agents import tracing
from agents.runner import TriageRunner
from tests.agents.conftest import CountingToolbox
from tests.agents.fixtures import BAD_IBAN, ac01_case
from tests.agents.test_llm_path import SPEC, ScriptedToolModel, _call, _decide


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    monkeypatch.setattr(tracing, "_configured_provider", lambda: provider)
    return spans


def test_without_a_tracer_provider_nothing_is_attached() -> None:
    assert tracing.tracer_callbacks() == []


def test_a_model_run_is_traced_step_by_step(toolbox: CountingToolbox, exporter: InMemorySpanExporter) -> None:
    script: list[Any] = [
        _call("validate_iban", {"iban": BAD_IBAN}, "c1"),
        AIMessage(content="done"),
        _decide("rule1"),
    ]
    toolbox.set_chat_model(SPEC, ScriptedToolModel(messages=iter(script)))
    TriageRunner(model=SPEC, checkpointer=InMemorySaver(), toolbox=toolbox).start(ac01_case(), "trace-1")
    spans = exporter.get_finished_spans()
    names = [s.name for s in spans]
    for node in ("intake", "classify", "retrieve", "agent", "tools", "verify", "propose", "guard"):
        assert f"node {node}" in names, names
    assert names.count("node agent") == 2  # the turn with a call, the turn that ends the loop
    assert any(n.startswith("model ") for n in names)
    by_id = {s.context.span_id: s for s in spans}
    # classify's consistency check calls tools too; the model's call runs under the ToolNode.
    parents = {by_id[s.parent.span_id].name for s in spans if s.name == "tool validate_iban" and s.parent}
    assert "node tools" in parents, parents
    assert all(s.end_time is not None for s in spans)
