"""An in-process pool of worker threads that claim triage jobs from the database.

``WorkerPool.start()`` first requeues jobs orphaned by dead workers of this host, then starts
``size`` threads. Each thread claims a job, runs it, and sleeps ``poll_seconds`` only when the queue
is empty; ``notify()`` (called after an enqueue in this process) wakes the threads at once.
``stop()`` lets running jobs finish but does not wait for an idle thread, nor for one still loading the
agent (that took seconds, so an idle ``repairdesk serve`` took 12 s to stop): such a thread claims
nothing once stopping has begun, and it is a daemon, so it ends with the process. A job interrupted by
a crash is re-claimed after its lease or by the next start on this host.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from app.db.session import Database
from app.errors import UnavailableError
from app.jobs.process import run_job
from app.jobs.queue import HOST, claim, extend_lease, requeue_orphans
from app.jobs.triage import Runners
from app.services.document_store import DocumentStore
from app.services.stp import StpOptions

log = logging.getLogger("repairdesk.jobs")

# Pool instances alive in this process (see queue.requeue_orphans); "api" is a request running its
# own decision job (app.services.decisions.run_decision_job), alive as long as the process is.
LIVE_INSTANCES: set[str] = {"api"}


class WorkerPool:
    def __init__(
        self,
        db: Database,
        store: DocumentStore,
        runners: Runners,
        *,
        size: int = 2,
        lease_seconds: float = 600.0,
        poll_seconds: float = 0.5,
        max_attempts: int = 3,
        stp: StpOptions | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.runners = runners
        self.size = size
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.stp = stp  # straight-through options (app.services.stp); None: never auto-apply
        self.instance = uuid.uuid4().hex[:12]
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._warned = False
        # Threads between claiming and finishing a job: stop() waits for these only.
        self._busy: set[int] = set()
        self._busy_lock = threading.Lock()

    def start(self) -> int:
        """Requeue orphaned jobs, start the threads; returns how many jobs were requeued."""
        LIVE_INSTANCES.add(self.instance)
        with self.db.session() as session:
            requeued = requeue_orphans(session, LIVE_INSTANCES)
        if requeued:
            log.warning("requeued jobs left running by a stopped worker", extra={"jobs": requeued})
        for index in range(self.size):
            thread = threading.Thread(target=self._loop, args=(index,), name=f"triage-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return requeued

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the jobs in flight (up to ``timeout`` seconds each); idle threads are not waited for."""
        with self._busy_lock:
            self._stop.set()
            busy = set(self._busy)
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout if thread.ident in busy else 0.05)
        self._threads.clear()
        LIVE_INSTANCES.discard(self.instance)

    def run_once(self, worker_id: str | None = None) -> bool:
        """Claim and run one job; ``False`` when the queue was empty."""
        worker_id = worker_id or f"{HOST}:{os.getpid()}:{self.instance}"
        # Load the agent before claiming, so an agent that cannot load leaves the jobs queued.
        self.runners.get()
        me = threading.get_ident()
        with self._busy_lock:
            if self._stop.is_set():
                return False  # stopping began while the agent loaded: claim nothing
            self._busy.add(me)
        try:
            with self.db.session() as session:
                job = claim(session, worker_id, self.lease_seconds)
            if job is None:
                return False
            with self._heartbeat(job.id, worker_id):
                run_job(
                    self.db,
                    self.store,
                    self.runners,
                    job,
                    worker_id=worker_id,
                    max_attempts=self.max_attempts,
                    stp=self.stp,
                )
            return True
        finally:
            with self._busy_lock:
                self._busy.discard(me)

    @contextmanager
    def _heartbeat(self, job_id: int, worker_id: str) -> Iterator[None]:
        """Renew the job's lease every third of it while it runs (a slow model must not lose its job)."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.lease_seconds / 3):
                try:
                    with self.db.session() as session:
                        if not extend_lease(session, job_id, worker_id, self.lease_seconds):
                            return
                except Exception:  # a missed beat only shortens the lease; the next one retries
                    log.warning("lease renewal failed", extra={"job": job_id})

        thread = threading.Thread(target=beat, name=f"lease-{job_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(5)

    def _loop(self, index: int) -> None:
        worker_id = f"{HOST}:{os.getpid()}:{self.instance}"
        while not self._stop.is_set():
            try:
                worked = self.run_once(worker_id)
            except UnavailableError as exc:
                if not self._warned:
                    log.warning("triage agent unavailable; jobs stay queued", extra={"reason": exc.reason})
                    self._warned = True
                worked = False
            except Exception:  # a database hiccup must not kill the thread; back off and retry
                log.exception("worker loop error", extra={"worker": index})
                worked = False
            if not worked:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
