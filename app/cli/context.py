"""What a ``repairdesk`` command works with, built lazily: only what the command asks for is loaded.

The root callback (:mod:`app.cli.main`) reads the environment once (``Settings``), installs it for
``tools/`` and ``agents/`` and puts a :class:`CliContext` on ``typer.Context.obj``. ``search`` then
opens only the procedure index and a NumPy query embedder (no agent, no torch); ``triage`` builds the
agent with that same search, and no service, database engine or document store. Heavy imports stay
inside the methods so that ``--help`` and the light commands stay instant.

``build_runners`` says how the triage runners of a command that runs jobs (``worker``) are built: the
agent by default; a harness that starts the CLI in a process of its own passes another
(``cli(obj=CliContext(settings, build_runners=...))``, as ``tests/app/failing_worker.py`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from app.jobs.triage import TriageRunners
    from app.settings import Settings


@dataclass
class CliContext:
    settings: Settings
    build_runners: Callable[[Settings], TriageRunners] | None = None
    _search: Any = field(default=None, repr=False)

    def runners(self, settings: Settings | None = None) -> TriageRunners:
        """The triage runners for ``settings`` (the command's own by default)."""
        settings = settings or self.settings
        if self.build_runners is not None:
            return self.build_runners(settings)
        from app.jobs.triage import TriageRunners

        return TriageRunners.agent(settings)

    def search(self) -> Any:
        """The procedure search (built first when the index is absent or stale); queries are embedded
        by :mod:`tools.retrieval.minilm`, the same vectors without importing torch."""
        if self._search is None:
            from tools.retrieval.active_model import active_model
            from tools.retrieval.search import open_search

            if active_model() is not None:  # a promoted retriever: its own (torch) embedder
                self._search = open_search()
            else:
                from tools.retrieval.minilm import query_embedder

                self._search = open_search(embedder=query_embedder())
        return self._search

    def search_or_none(self) -> Any:
        """The search, or ``None`` when it cannot be opened (the agent then cites without it)."""
        from tools.errors import RepairDeskError

        try:
            return self.search()
        except (ImportError, RepairDeskError):
            return None


def context(ctx: typer.Context) -> CliContext:
    """The command's context (one is built when a command is invoked without the root callback)."""
    found = ctx.find_object(CliContext)
    if found is None:
        from app.settings import Settings, configure_process

        settings = Settings()
        configure_process(settings)
        found = ctx.obj = CliContext(settings)
    return found
