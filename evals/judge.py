"""An LLM judge behind the provider seam, with an on-disk cache keyed by prompt hash.

Judge calls are cached so a rerun is cheap and repeatable; token counts come from the provider's
usage metadata; calls that fail are counted, never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr


class JudgeStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.cache_hits = 0
        self.errors = 0
        self.input_tokens = 0
        self.output_tokens = 0

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


class CachedJudge(BaseChatModel):
    """Wraps a chat model; answers from ``cache_dir/<sha256>.json`` when the same prompt was seen."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    spec: str
    cache_dir: Path
    _stats: JudgeStats = PrivateAttr(default_factory=JudgeStats)

    @property
    def stats(self) -> JudgeStats:
        return self._stats

    @property
    def _llm_type(self) -> str:
        return f"cached-judge:{self.spec}"

    def _key(self, messages: list[BaseMessage]) -> str:
        payload = json.dumps(
            [self.spec, [(m.type, m.content) for m in messages]], sort_keys=True, default=str
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    # Intended near-copy: LangChain's BaseChatModel._generate signature, which every chat model
    # (bedrock.py, llamacpp.py, evals/judge.py) overrides in the same words.
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        key = self._key(messages)
        path = self.cache_dir / f"{key}.json"
        if path.exists():
            self._stats.add(cache_hits=1)
            text = json.loads(path.read_text())["text"]
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
        self._stats.add(calls=1)
        try:
            reply = self.inner.invoke(messages, stop=stop)
        except Exception:
            self._stats.add(errors=1)
            raise
        usage = getattr(reply, "usage_metadata", None) or {}
        self._stats.add(
            input_tokens=int(usage.get("input_tokens", 0)), output_tokens=int(usage.get("output_tokens", 0))
        )
        text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"spec": self.spec, "text": text, "usage": dict(usage)}))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def load_judge(spec: str, cache_dir: Path, chat_model: BaseChatModel | None = None) -> CachedJudge:
    """The judge for ``spec`` (same specs as ``--model``). ``chat_model`` injects a model (tests)."""
    if chat_model is None:
        from agents.models import load_chat_model

        chat_model = load_chat_model(spec)
    return CachedJudge(inner=chat_model, spec=spec, cache_dir=cache_dir)
