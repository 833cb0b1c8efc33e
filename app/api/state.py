"""What a running app holds: settings, database, document store, triage runners, worker pool, auth caches.

One ``Services`` per app instance lives on ``app.state.services``; route dependencies reach it
through :mod:`app.api.deps`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from app.api.ratelimit import RateLimiter
from app.db.session import Database
from app.jobs.pool import WorkerPool
from app.jobs.triage import TriageRunners
from app.services.auth import Principal
from app.services.document_store import DocumentStore
from app.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    store: DocumentStore
    limiter: RateLimiter
    # The triage backends, built with the app (the agent of settings.model unless the caller brings
    # its own: tests, benchmarks); worker threads, decisions and the start-up recovery use these.
    runners: TriageRunners
    pool: WorkerPool | None = None
    token_cache: dict[str, tuple[Principal | None, float]] = field(default_factory=dict)
    # The procedure search, opened on the first search request and kept for the app's life: a
    # tools.retrieval FollowingSearch, which swaps in a promoted (or rolled back) retriever without a
    # restart. Tests put their own here.
    procedure_search: Any = None
    _search_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def search(self) -> Any:
        with self._search_lock:
            if self.procedure_search is None:
                from tools.retrieval.search import FollowingSearch

                self.procedure_search = FollowingSearch()
            return self.procedure_search

    def notify_workers(self, case_id: str | None = None) -> None:
        if self.pool is not None:
            self.pool.notify()
        if self.settings.broker and case_id is not None:
            from app.jobs.dispatch import notify

            notify(self.db, case_id)  # Celery: publish the case's job (REPAIRDESK_BROKER)
