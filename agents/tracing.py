"""OpenTelemetry spans for a triage run, from LangChain callbacks, only when tracing is set up.

Why callbacks: LangGraph reports every node, model call and tool call of a run to the callback
handlers in the run's config, so one handler sees the tool loop step by step without touching the
nodes. :func:`tracer_callbacks` returns that handler only when the process has an OpenTelemetry SDK
tracer provider (the deployment installed one with its exporter); otherwise it returns nothing and a
run pays nothing. The steps the analyst sees do not depend on it: they are the run's messages,
checkpointed with the thread (``steps`` on the proposal, :func:`agents.nodes.verify.steps_of`).

Spans: ``node <name>`` per graph node (with the thread id), ``model <name>`` per chat model call
(token counts when the provider reports them), ``tool <name>`` per tool call (its status); each is
the child of the node or call that started it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

TRACER_NAME = "repairdesk.agent"


def _configured_provider() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:  # the API is optional: no tracing without it
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None
    return provider


def tracer_callbacks() -> list[BaseCallbackHandler]:
    """``[SpanTracer]`` when an OpenTelemetry tracer provider is configured, else ``[]``."""
    provider = _configured_provider()
    return [] if provider is None else [SpanTracer(provider.get_tracer(TRACER_NAME))]


class SpanTracer(BaseCallbackHandler):
    """One span per graph node, chat model call and tool call, nested as LangChain runs nest."""

    def __init__(self, tracer: Any) -> None:
        self._tracer = tracer
        self._spans: dict[UUID, Any] = {}

    def _start(self, name: str, run_id: UUID, parent_run_id: UUID | None, **attributes: Any) -> None:
        from opentelemetry import trace

        parent = self._spans.get(parent_run_id) if parent_run_id else None
        context = trace.set_span_in_context(parent) if parent is not None else None
        clean = {k: v for k, v in attributes.items() if isinstance(v, str | int | float | bool)}
        self._spans[run_id] = self._tracer.start_span(name, context=context, attributes=clean)

    def _end(self, run_id: UUID, error: BaseException | None = None, **attributes: Any) -> None:
        span = self._spans.pop(run_id, None)
        if span is None:
            return
        for key, value in attributes.items():
            if isinstance(value, str | int | float | bool):
                span.set_attribute(key, value)
        if error is not None:
            from opentelemetry.trace import Status, StatusCode

            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, str(error)[:200]))
        span.end()

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        node = (metadata or {}).get("langgraph_node")
        # A node's own run carries its name; runnables nested inside it are not nodes.
        if node and kwargs.get("name") == node:
            thread = str((metadata or {}).get("thread_id") or "")
            self._start(f"node {node}", run_id, parent_run_id, thread_id=thread)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name") or "chat_model"
        self._start(f"model {name}", run_id, parent_run_id, messages=sum(len(m) for m in messages))

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        usage = (getattr(response, "llm_output", None) or {}).get("token_usage") or {}
        self._end(
            run_id,
            input_tokens=usage.get("prompt_tokens", 0),
            output_tokens=usage.get("completion_tokens", 0),
        )

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name") or "tool"
        self._start(f"tool {name}", run_id, parent_run_id)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        status = getattr(output, "status", None)
        self._end(run_id, status=str(status or "success"))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)
