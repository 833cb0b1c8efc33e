"""What the nodes work with: the evidence tools, the procedures, procedure search and chat models.

Contract: :class:`Toolbox` wraps ``tools.agent_tools.build_tools(store, search)`` (LangChain tools keyed
by catalogue name), the procedures of ``corpora/procedures`` (the typed model of
:mod:`tools.procedures`, parsed once per corpus version) and the procedure search.
:meth:`Toolbox.call` runs one tool and always returns a dict: a tool that raises yields
``{"found": False, "error": ...}`` so one bad look-up never aborts a case.
:func:`langgraph_server_toolbox` is the lazy fallback for runs that carry no toolbox in their context
(LangGraph's own server and Studio, which import ``agents/graph.py:graph`` by name and pass no context);
the service, CLI and workers each keep one ``TriageRunner``, which passes its own toolbox in every run's
context.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from agents.models import load_chat_model
from tools.errors import RepairDeskError
from tools.procedures import Procedure, default_corpus, load_procedures

log = logging.getLogger(__name__)


@dataclass
class Toolbox:
    tools: Mapping[str, BaseTool]
    procedures: Sequence[Procedure]
    search: Any = None  # tools.retrieval ProcedureSearch (``search(query, code=, message_type=, k=)``)
    _models: dict[str, BaseChatModel | None] = field(default_factory=dict)
    _hits: dict[tuple[str, str | None, int], list[Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, name: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Run tool ``name``; the result is a dict (errors become ``{"found": False, "error": ...}``)."""
        tool = self.tools.get(name)
        if tool is None:
            return {"found": False, "error": f"no tool named {name!r}"}
        try:
            raw = tool.invoke(dict(args))
        except RepairDeskError as exc:
            return {"found": False, "error": str(exc)}
        except Exception as exc:  # a tool's own bug must not take the case down; the analyst sees it
            log.warning("tool %s failed: %s", name, exc)
            return {"found": False, "error": f"{type(exc).__name__}: {exc}"}
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                return {"found": False, "error": raw}
        if hasattr(raw, "model_dump"):
            raw = raw.model_dump(mode="json")
        return dict(raw) if isinstance(raw, Mapping) else {"value": raw}

    def required_args(self, name: str) -> frozenset[str]:
        tool = self.tools.get(name)
        schema = getattr(tool, "args_schema", None) if tool is not None else None
        if schema is None:
            return frozenset()
        if isinstance(schema, dict):
            return frozenset(schema.get("required", []))
        try:
            return frozenset(schema.model_json_schema().get("required", []))
        except (AttributeError, TypeError):
            return frozenset()

    def accepts(self, name: str, arg: str) -> bool:
        tool = self.tools.get(name)
        return tool is not None and arg in (tool.args or {})

    def claiming(self, code: str) -> list[Procedure]:
        """Procedures whose front matter claims ``code``, in corpus order."""
        wanted = code.upper()
        return [p for p in self.procedures if wanted in (c.upper() for c in p.exception_codes)]

    def search_procedures(self, query: str, *, code: str | None, k: int) -> list[Any]:
        """Procedure search hits, memoised per (query, code, k): the corpus is fixed while we run, and
        an embedding per case would cost more than the rest of the triage together."""
        if self.search is None:
            return []
        key = (query, code, k)
        with self._lock:
            cached = self._hits.get(key)
        if cached is None:
            cached = list(self.search.search(query, code=code, k=k))
            with self._lock:
                if len(self._hits) > 1024:
                    self._hits.clear()
                self._hits[key] = cached
        return cached

    def procedure(self, doc_id: str) -> Procedure | None:
        return next((p for p in self.procedures if p.doc_id == doc_id), None)

    def chat_model(self, spec: str) -> BaseChatModel | None:
        """The chat model for ``spec`` (``None`` for ``playbook``), built once per toolbox."""
        with self._lock:
            if spec not in self._models:
                self._models[spec] = load_chat_model(spec)
            return self._models[spec]

    def set_chat_model(self, spec: str, model: BaseChatModel | None) -> None:
        """Use ``model`` for ``spec`` (tests and embedders inject their own models this way)."""
        with self._lock:
            self._models[spec] = model


def load_procedure_refs(directory: Any = None) -> list[Procedure]:
    """The procedures (not reference documents) of ``directory``, default the product's corpus."""
    procedures = default_corpus().by_id.values() if directory is None else load_procedures(directory)
    return [p for p in procedures if p.kind == "procedure"]


_server_toolbox: Toolbox | None = None
_server_toolbox_lock = threading.Lock()


def build_toolbox(*, store: Any = None, search: Any = None, procedures_dir: Any = None) -> Toolbox:
    """A toolbox over ``store`` and ``search`` (the defaults of tools/refdata and tools/retrieval)."""
    from tools.agent_tools import build_tools

    if store is None:
        from tools.db import get_engine
        from tools.refdata.store import RefDataStore

        store = RefDataStore(get_engine())
    if search is None:
        search = default_search()
    return Toolbox(
        tools=build_tools(store, search), procedures=load_procedure_refs(procedures_dir), search=search
    )


def default_search() -> Any:
    """The procedure search, or ``None`` when its index has not been built (citations then fall back)."""
    try:
        from tools.retrieval.search import FollowingSearch

        return FollowingSearch()  # a promoted retriever is picked up without a restart
    except (ImportError, RepairDeskError) as exc:
        log.warning("procedure search unavailable: %s", exc)
        return None


def langgraph_server_toolbox() -> Toolbox:
    """The toolbox for a run whose context carries none: built on first use, then kept.

    Why a lazy module-level factory: ``infra/langgraph.json`` points LangGraph's server (and Studio) at
    ``agents/graph.py:graph``; that server owns start-up and hands the nodes no context of ours, so there
    is no start-up of ours to build the toolbox in. Every run we start ourselves passes its own."""
    global _server_toolbox
    with _server_toolbox_lock:
        if _server_toolbox is None:
            _server_toolbox = build_toolbox()
        return _server_toolbox
