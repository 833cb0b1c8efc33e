"""The one seam between the service and the agent (``agents.runner.TriageRunner``).

``get_runner(model, database_url, data_dir)`` builds a runner with the contract
``start(case, thread_id) -> proposal`` (runs to the human-review interrupt; idempotent per thread)
and ``resume(thread_id, decision) -> {"status", "final_changes", "repaired_message", "proposal"}``;
optionally ``take_usage(thread_id) -> dict | None`` (the thread's metered model usage, stored with the
proposal by :mod:`app.jobs.process`).
The caller keeps it for its life: one per app (:class:`app.api.state.Services`), one per Celery worker
process (``app.jobs.celery_app.WorkerContext``); nothing is cached here. Tests and the benchmark
install their own backend with ``set_runner``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

from app.errors import UnavailableError
from tools.db import get_engine, is_postgres


class TriageBackend(Protocol):
    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]: ...

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]: ...


_override: TriageBackend | None = None


def set_runner(runner: TriageBackend | None) -> None:
    """Use ``runner`` for every model spec (``None`` restores the agent)."""
    global _override
    _override = runner


class KeptRunner:
    """The runner of one app or one worker process: built on first use, then kept (thread-safe).
    A backend installed with :func:`set_runner` wins over the kept one."""

    def __init__(self) -> None:
        self._runner: TriageBackend | None = None
        self._lock = threading.Lock()

    def get(self, model: str | None, database_url: str, data_dir: Path) -> TriageBackend:
        if _override is not None:
            return _override
        with self._lock:
            if self._runner is None:
                self._runner = get_runner(model, database_url, data_dir)
            return self._runner


def _checkpointer(database_url: str, data_dir: Path) -> Any:
    from agents.checkpoints import postgres_checkpointer, sqlite_checkpointer

    if is_postgres(database_url):
        return postgres_checkpointer(database_url)
    return sqlite_checkpointer(data_dir / "checkpoints.sqlite")


def get_runner(model: str | None, database_url: str, data_dir: Path) -> TriageBackend:
    """The agent for ``model`` whose checkpoints and reference data live in the service's database."""
    if _override is not None:
        return _override
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
