"""The one seam between the service and the agent (``agents.runner.TriageRunner``).

``get_runner(model)`` returns a process-wide runner per model spec with the contract
``start(case, thread_id) -> proposal`` (runs to the human-review interrupt; idempotent per thread)
and ``resume(thread_id, decision) -> {"status", "final_changes", "repaired_message", "proposal"}``;
optionally ``take_usage(thread_id) -> dict | None`` (the thread's metered model usage, stored with the
proposal by :mod:`app.jobs.process`).
Tests and the benchmark install their own backend with ``set_runner``.
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


_lock = threading.Lock()
_runners: dict[tuple[str, str, str], TriageBackend] = {}
_override: TriageBackend | None = None


def set_runner(runner: TriageBackend | None) -> None:
    """Use ``runner`` for every model spec (``None`` restores the agent)."""
    global _override
    _override = runner


def _checkpointer(database_url: str, data_dir: Path) -> Any:
    from agents.checkpoints import postgres_checkpointer, sqlite_checkpointer

    if is_postgres(database_url):
        return postgres_checkpointer(database_url)
    return sqlite_checkpointer(data_dir / "checkpoints.sqlite")


def get_runner(model: str | None, database_url: str, data_dir: Path) -> TriageBackend:
    """The agent for ``model`` whose checkpoints and reference data live in the service's database."""
    if _override is not None:
        return _override
    key = (model or "", database_url, str(data_dir))
    with _lock:
        if key not in _runners:
            try:
                from agents.runner import TriageRunner
                from tools.refdata.store import RefDataStore
            except ImportError as exc:
                raise UnavailableError(
                    f"the triage agent is not installed: {exc}", source="agents.runner"
                ) from exc
            _runners[key] = TriageRunner(
                model=model or None,
                checkpointer=_checkpointer(database_url, data_dir),
                store=RefDataStore(get_engine(database_url)),
            )
        return _runners[key]
