"""The one seam between the service and the agent (``agents.runner.TriageRunner``).

A triage backend has the contract ``start(case, thread_id) -> proposal`` (runs to the human-review
interrupt; idempotent per thread) and ``resume(thread_id, decision) -> {"status", "final_changes",
"repaired_message", "proposal"}``; optionally ``take_usage(thread_id) -> dict | None`` (the thread's
metered model usage, stored with the proposal by :mod:`app.jobs.process`).

:class:`TriageRunners` is what a process holds to reach its backends: ``get()`` the default one
(built on first use, then kept), ``get(model)`` one for a re-triage's model. It is built at start-up
and passed in: one per app (:class:`app.api.state.Services`, from :func:`app.main.create_app`), one
per Celery worker process (``app.jobs.celery_app.WorkerContext``), one per ``repairdesk`` command
(:class:`app.cli.context.CliContext`). Nothing here is global: tests and benchmarks build their own
with :meth:`TriageRunners.fixed` and inject it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from app.errors import UnavailableError
from tools.db import get_engine, is_postgres

if TYPE_CHECKING:
    from app.settings import Settings


class TriageBackend(Protocol):
    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]: ...

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]: ...


class Runners(Protocol):
    """What the job and decision code asks for a case's backend (:class:`TriageRunners`, or a
    wrapper of it such as the Celery task's crash recorder)."""

    def get(self, model: str | None = None) -> TriageBackend: ...


BuildBackend: TypeAlias = Callable[[str | None], TriageBackend]


class TriageRunners:
    """The triage backends of one app, worker process or command.

    ``build(model)`` makes a backend for a model spec. The default model's backend is built on first
    use (loading the agent takes seconds) and kept (thread-safe); another model's (a re-triage) is
    built for each call, as its cases are rare."""

    def __init__(self, build: BuildBackend, model: str | None = None) -> None:
        self._build = build
        self._model = model
        self._default: TriageBackend | None = None
        self._lock = threading.Lock()

    @classmethod
    def agent(cls, settings: Settings) -> TriageRunners:
        """The agent of ``settings.model``, its checkpoints and reference data in the service's database."""
        database_url, data_dir = settings.database_url, settings.data_dir
        return cls(lambda model: build_agent(model, database_url, data_dir), settings.model)

    @classmethod
    def fixed(cls, backend: TriageBackend) -> TriageRunners:
        """``backend`` for every model spec (tests, benchmarks, a command that brings its own)."""
        return cls(lambda _model: backend)

    def get(self, model: str | None = None) -> TriageBackend:
        if model:
            return self._build(model)
        with self._lock:
            if self._default is None:
                self._default = self._build(self._model)
            return self._default


def _checkpointer(database_url: str, data_dir: Path) -> Any:
    from agents.checkpoints import postgres_checkpointer, sqlite_checkpointer

    if is_postgres(database_url):
        return postgres_checkpointer(database_url)
    return sqlite_checkpointer(data_dir / "checkpoints.sqlite")


def build_agent(model: str | None, database_url: str, data_dir: Path) -> TriageBackend:
    """The agent for ``model`` whose checkpoints and reference data live in the service's database."""
    try:
        from agents.runner import TriageRunner
        from tools.refdata.store import RefDataStore
    except ImportError as exc:
        raise UnavailableError(f"the triage agent is not installed: {exc}", source="agents.runner") from exc
    return TriageRunner(
        model=model or None,
        checkpointer=_checkpointer(database_url, data_dir),
        store=RefDataStore(get_engine(database_url)),
    )
