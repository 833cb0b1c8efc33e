"""An OpenAI-compatible chat-completions server over the local llama.cpp model (127.0.0.1 only).

Why: the ``openai:`` provider (``langchain_openai.ChatOpenAI`` with ``OPENAI_BASE_URL``) must be
exercised over real HTTP, with no network and no fake, and ``benchmarks/agent.py`` runs it side by
side with the other providers. llama-cpp-python's own server needs extras we do not install
(``sse-starlette``, ``starlette-context``), and the small base models we run have no chat template or
tool-calling format, so this server gives them one the same way it gives them structured output:
decoding under a GBNF grammar compiled from a JSON schema.

Contract: ``POST /v1/chat/completions`` takes the OpenAI request (``messages`` with system, user,
assistant with ``tool_calls``, and tool roles; ``tools`` and ``tool_choice``; ``response_format``
``json_schema`` or ``json_object``; ``max_tokens``/``max_completion_tokens``; ``temperature``) and
answers the OpenAI response: with ``tools`` offered, the reply is either one tool call
(``finish_reason`` ``tool_calls``) or text, decided by the grammar ``{"tool", "arguments"} | {"answer"}``;
with a ``json_schema`` response format, the content is JSON of that schema. ``stream`` is refused
(400). ``GET /v1/models`` lists the one model. :func:`serve` runs it in a thread on a free port and
yields the base URL; ``python -m agents.llamacpp_server [--port N] [--model PATH]`` runs it in the
foreground.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agents.llamacpp import _grammar, _load, _lock, default_gguf_path, plain_prompt

MAX_TOKENS = 160
ANSWER = {
    "type": "object",
    "properties": {"answer": {"type": "string", "maxLength": 200}},
    "required": ["answer"],
}
_DROP = frozenset({"title", "description", "default", "examples"})


def simplify(schema: Any) -> Any:
    """A tool's JSON schema as llama.cpp's grammar compiler takes it: no prose keys, and ``{}`` (any)
    as a string, an object for a field that names one (the compiler has no rule for "anything")."""
    if isinstance(schema, list):
        return [simplify(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if not schema:
        return {"type": "string"}
    out = {k: simplify(v) for k, v in schema.items() if k not in _DROP}
    if out.get("type") == "array" and not out.get("items") and "prefixItems" not in out:
        out["items"] = {"type": "string"}
    return out


def tool_call_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """One tool call (``{"tool": name, "arguments": {...}}``) of the offered tools, or an answer."""
    alternatives = [
        {
            "type": "object",
            "properties": {
                "tool": {"const": tool["function"]["name"]},
                "arguments": simplify(tool["function"].get("parameters") or {"type": "object"}),
            },
            "required": ["tool", "arguments"],
        }
        for tool in tools
        if tool.get("type") == "function"
    ]
    return {"anyOf": [*alternatives, ANSWER]}


def to_messages(messages: list[dict[str, Any]]) -> list[BaseMessage]:
    """OpenAI chat messages as LangChain messages (what :func:`agents.llamacpp.plain_prompt` reads)."""
    converted: list[BaseMessage] = []
    for message in messages:
        role, content = message.get("role"), message.get("content") or ""
        if isinstance(content, list):  # content parts: keep the text ones
            content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        if role in ("system", "developer"):
            converted.append(SystemMessage(content))
        elif role == "assistant":
            calls = [
                {"tool": c["function"]["name"], "arguments": c["function"].get("arguments")}
                for c in message.get("tool_calls") or []
            ]
            converted.append(AIMessage(content or json.dumps(calls)))
        elif role == "tool":
            converted.append(ToolMessage(content, tool_call_id=str(message.get("tool_call_id") or "")))
        else:
            converted.append(HumanMessage(content))
    return converted


def _tool_list(tools: list[dict[str, Any]]) -> str:
    lines = [
        'Answer with {"tool": <name>, "arguments": {...}} to call a tool, or {"answer": <text>} when done.'
    ]
    for tool in tools:
        function = tool.get("function") or {}
        args = ", ".join((function.get("parameters") or {}).get("properties") or {})
        lines.append(f"- {function.get('name')}({args}): {str(function.get('description') or '')[:120]}")
    return "\n".join(lines)


def _grammar_for(body: dict[str, Any]) -> tuple[Any, bool]:
    """The grammar the request asks for, and whether the reply may be a tool call."""
    tools = body.get("tools") or []
    if tools and body.get("tool_choice") != "none":
        return _grammar(json.dumps(tool_call_schema(tools), sort_keys=True)), True
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {"type": "object"}
        return _grammar(json.dumps(simplify(schema), sort_keys=True)), False
    if response_format.get("type") == "json_object":
        return _grammar(json.dumps({"type": "object"})), False
    return None, False


def complete(body: dict[str, Any], model_path: str, n_ctx: int = 4096) -> dict[str, Any]:
    """The chat completion for an OpenAI request body (see module docstring)."""
    llama = _load(model_path, n_ctx)
    grammar, tool_mode = _grammar_for(body)
    max_tokens = int(body.get("max_completion_tokens") or body.get("max_tokens") or MAX_TOKENS)
    messages = to_messages(list(body.get("messages") or []))
    if tool_mode:  # the grammar allows the calls; the prompt says what each one does
        messages.insert(0, SystemMessage(_tool_list(body.get("tools") or [])))
    prompt = plain_prompt(messages)
    tokens = llama.tokenize(prompt.encode("utf-8"))
    budget = n_ctx - max_tokens - 8
    if len(tokens) > budget:  # keep the tail: the question sits at its end
        prompt = llama.detokenize(tokens[-budget:]).decode("utf-8", errors="ignore")
    with _lock:
        out = llama(
            prompt,
            max_tokens=max_tokens,
            temperature=float(body.get("temperature") or 0.0),
            stop=body.get("stop"),
            grammar=grammar,
        )
    text = out["choices"][0]["text"]
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = out["choices"][0].get("finish_reason") or "stop"
    if tool_mode:
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:  # cut off by max_tokens: say so as text
            parsed = {"answer": text}
        if isinstance(parsed, dict) and "tool" in parsed:
            call = {
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": parsed["tool"], "arguments": json.dumps(parsed.get("arguments") or {})},
            }
            message, finish = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        else:
            message["content"] = str(parsed.get("answer", text)) if isinstance(parsed, dict) else text
    usage = out.get("usage") or {}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or Path(model_path).name,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": int(usage.get("prompt_tokens", 0)),
            "completion_tokens": int(usage.get("completion_tokens", 0)),
            "total_tokens": int(usage.get("total_tokens", 0)),
        },
    }


def create_app(model_path: str) -> FastAPI:
    """The ASGI app (FastAPI) serving ``model_path``."""
    app = FastAPI(title="llama.cpp OpenAI-compatible server", docs_url=None, redoc_url=None)

    def _error(status: int, message: str) -> JSONResponse:
        error = {"message": message, "type": "invalid_request_error"}
        return JSONResponse({"error": error}, status_code=status)

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        listed = {"id": Path(model_path).name, "object": "model", "owned_by": "local"}
        return {"object": "list", "data": [listed]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "`messages` must be a list")
        if body.get("stream"):
            return _error(400, "streaming is not supported by this server")
        return await run_in_threadpool(complete, body, model_path)

    return app


@contextmanager
def serve(model_path: str | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Run the server in a thread on a free port of ``host``; yields the base URL (``.../v1``)."""
    import uvicorn

    path = str(model_path or default_gguf_path())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(path), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the llama.cpp server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="GGUF file (default: the Gemma 3 270M package)")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    uvicorn.run(create_app(str(args.model or default_gguf_path())), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
