"""Run-time context of the graph (LangGraph ``context_schema``): not checkpointed, given per run.

``model`` is the contract's model spec (``playbook``, ``bedrock:<id>``, ``openai:<model>``,
``llamacpp:<path.gguf>``). ``toolbox`` is an :class:`agents.toolbox.Toolbox` (reference-data tools,
procedure search, chat models); when absent (LangGraph server, Studio) the nodes build the default
one lazily. It is typed ``Any`` so LangGraph's server can still derive a JSON schema of the context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools import config


def default_model_spec() -> str:
    """The configured model (``REPAIRDESK_MODEL``, default ``playbook``)."""
    return config.current().model or "playbook"


@dataclass
class Context:
    model: str = field(default_factory=default_model_spec)
    toolbox: Any = field(default=None, repr=False)
