"""The Celery app (``worker_app``) and RepairDesk's distributed tasks.

Run a worker with ``repairdesk worker`` (when ``REPAIRDESK_BROKER`` is set) or directly with
``celery -A app.jobs.celery_app:worker_app worker -Q repairdesk-triage``.

Tasks (names are the wire contract; arguments are JSON):

- ``repairdesk.triage(case_id, job_id)``: run the triage job ``job_id`` exactly as the in-process pool
  does (:func:`app.jobs.process.run_job`). Each delivery first claims the job row
  (:func:`app.jobs.job_claims.claim_job`), so a duplicate delivery of a finished job is a no-op and
  a job whose worker died is taken over; the agent's ``start`` resumes from the graph checkpoint of
  thread ``case_id`` and a case that already has a proposal is never proposed again. A failure the
  agent raised is retried with exponential backoff until the job's ``job_max_attempts``; then the job
  and case are failed and the message goes to the dead-letter queue (:mod:`app.jobs.dead_letters`).
- ``repairdesk.extract_document(sha256, name)``: cache the canonical extraction of a stored document
  (idempotent: a document already extracted is left alone).
- ``repairdesk.build_index()``: (re)build the procedure index incrementally.

The database ``jobs`` table stays the source of truth; the broker only carries "job N is ready".
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import Task
from celery.signals import setup_logging, worker_init, worker_process_init, worker_ready

from app.db.session import Database
from app.jobs.celery_config import DEAD_LETTER_QUEUE, TRIAGE_QUEUE, WorkerOptions
from app.jobs.celery_wire import EXTRACT_TASK, INDEX_TASK, TRIAGE_TASK, create_celery_app, worker_app
from app.jobs.job_claims import claim_job
from app.jobs.queue import HOST
from app.jobs.triage import Runners, TriageBackend, TriageRunners
from app.services.audit_keys import resolve_key
from app.services.document_store import DocumentStore, open_store
from app.services.stp import StpOptions
from app.settings import Settings, configure_process
from tools.errors import RepairDeskError

log = logging.getLogger("repairdesk.jobs.celery")


@dataclass
class WorkerContext:
    """What one worker process holds: settings, database, document store and triage runners, built
    once at its start-up (:class:`WorkerProcess`); tests build their own and pass it to the task body."""

    settings: Settings
    options: WorkerOptions
    db: Database
    store: DocumentStore
    runners: Runners
    worker_id: str = field(default_factory=lambda: f"{HOST}:{os.getpid()}:celery")

    @classmethod
    def build(cls, settings: Settings, runners: Runners | None = None) -> WorkerContext:
        """The context for ``settings``; ``runners`` defaults to the agent of ``settings.model``."""
        return cls(
            settings=settings,
            options=WorkerOptions.from_settings(settings),
            db=Database(settings.database_url, audit_key=resolve_key(settings)),
            store=open_store(settings.document_store_location, kms_key_id=settings.document_kms_key_id),
            runners=runners or TriageRunners.agent(settings),
        )


class WorkerProcess:
    """The start-up of the worker process that runs the tasks: its :class:`WorkerContext`, built on
    first use there and dropped after a fork (a prefork child must not share the parent's database
    connections). Celery's tasks and signal handlers reach nothing but module names, so this one
    holder (:data:`worker_process`) is where that start-up lives; ``repairdesk worker`` sets
    ``build_runners`` before the worker starts (the agent by default); a test builds its own holder."""

    def __init__(self, build_runners: Callable[[Settings], Runners] = TriageRunners.agent) -> None:
        self.build_runners = build_runners
        self._context: WorkerContext | None = None
        self._lock = threading.Lock()

    def context(self) -> WorkerContext:
        with self._lock:
            if self._context is None:
                settings = Settings()
                configure_process(settings)  # the worker process's start-up: tools/ and agents/ get it too
                self._context = WorkerContext.build(settings, self.build_runners(settings))
                from app.services.layout_rules import install_provider

                install_provider(self._context.db)  # learned document layouts, as in the API process
            return self._context

    def forget(self) -> None:
        """Drop the context (after a fork, or when a test changed the environment)."""
        with self._lock:
            self._context = None


worker_process = WorkerProcess()


def worker_context() -> WorkerContext:
    return worker_process.context()


@setup_logging.connect
def _configure_logging(**_: Any) -> None:
    """Workers log like the service (JSON, masked); connecting here stops Celery's own set-up."""
    from app.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)


@worker_init.connect
def _preload_modules(**_: Any) -> None:
    """In the worker's main process: import the agent's modules (no connections, no files opened),
    so prefork children share them instead of each paying seconds of imports."""
    try:
        import agents.runner  # noqa: F401
        import tools.agent_tools  # noqa: F401
    except ImportError:  # reported by the tasks (UnavailableError) and by `repairdesk worker --check`
        log.warning("the triage agent cannot be imported")


@worker_ready.connect
def _start_republisher(**_: Any) -> None:
    """In the worker's main process: a daemon thread that publishes again the jobs whose message
    was lost (:func:`app.jobs.dispatch.republish_when_idle`), every half ``republish_after`` (at
    most a minute). Redis only: SQS keeps a received message until it is deleted."""
    settings = Settings()
    options = WorkerOptions.from_settings(settings)
    if options.republish_after <= 0 or not (options.broker or "").startswith("redis"):
        return
    threading.Thread(
        target=_republish_forever, args=(settings, options.republish_after), name="republisher", daemon=True
    ).start()


def _republish_forever(settings: Settings, after: float) -> None:
    from app.jobs.dispatch import republish_when_idle

    db = Database(settings.database_url, audit_key=resolve_key(settings))
    while True:
        time.sleep(min(after / 2, 60.0))
        try:
            count = republish_when_idle(db, after)
            if count:
                log.warning("published again jobs whose message was lost", extra={"jobs": count})
        except Exception:  # a broker or database hiccup: the next round tries again
            log.exception("could not republish queued jobs")


@worker_process_init.connect
def _init_process(**_: Any) -> None:
    """In each process that runs tasks (the solo worker, or each prefork child): start clean, then
    load the agent and its tools, so the first task is not slow and "ready" means ready."""
    worker_process.forget()  # a forked pool process must not share the parent's database connections
    if not WorkerOptions.from_settings().warm_start:
        return
    try:
        runner = worker_context().runners.get()
        toolbox = getattr(runner, "toolbox", None)  # TriageRunner builds its toolbox on first use
        embedder = getattr(getattr(toolbox, "search", None), "embedder", None)
        if embedder is not None:
            # Load the embedding model and run it once: otherwise the first case of every process pays
            # it, all at once when a prefork pool starts (minutes on a small machine).
            embedder.embed(["warm-up"])
        log.info("worker process ready", extra={"pid": os.getpid()})
    except Exception:  # the tasks retry and report it; the worker itself must come up
        log.exception("could not preload the triage agent")


def backoff_seconds(attempt: int, options: WorkerOptions) -> float:
    """Exponential backoff with jitter: base * 2**(attempt-1), capped, plus up to 10% jitter."""
    base = options.retry_backoff_seconds * (2 ** max(0, attempt - 1))
    capped = min(base, options.retry_backoff_max_seconds)
    return capped + random.uniform(0, capped / 10 if capped else 0)


class _Recorder:
    """Wraps the worker's runners for one delivery, to tell an input error (final) from a crash
    (retried, then dead-lettered) of whichever backend the case uses."""

    def __init__(self, runners: Runners) -> None:
        self.runners = runners
        self.crashed = False

    def get(self, model: str | None = None) -> TriageBackend:
        return _Recording(self, self.runners.get(model))


class _Recording:
    def __init__(self, recorder: _Recorder, inner: TriageBackend) -> None:
        self.recorder = recorder
        self.inner = inner

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        try:
            return self.inner.start(case, thread_id)
        except RepairDeskError:
            raise
        except Exception:
            self.recorder.crashed = True
            raise

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        return self.inner.resume(thread_id, decision)

    def take_usage(self, thread_id: str) -> dict[str, Any] | None:
        take = getattr(self.inner, "take_usage", None)
        return take(thread_id) if callable(take) else None


def handle_triage(task: Task, case_id: str, job_id: int, ctx: WorkerContext | None = None) -> str:
    """One delivery of ``repairdesk.triage`` in ``ctx`` (this process's by default); returns what
    happened (for logs and tests)."""
    from app.jobs.dead_letters import dead_letter
    from app.jobs.process import run_job

    ctx = ctx or worker_context()
    retries = int(task.request.retries or 0)
    claimed: int | None = None
    try:
        runner = _Recorder(ctx.runners)
        runner.get()  # before claiming: an agent that cannot load leaves the job queued
        with ctx.db.session() as session:
            outcome = claim_job(session, job_id, ctx.worker_id, ctx.settings.job_lease_seconds)
        if outcome.state in {"missing", "finished"}:
            log.info("duplicate or stale triage delivery", extra={"case_id": case_id, "state": outcome.state})
            return outcome.state
        if outcome.state == "busy":
            # Another live worker runs it. Look again when its lease ends: if it finished, this
            # delivery is a no-op; if it died, this delivery takes over. The lease bounds the wait.
            task.apply_async((case_id, job_id), countdown=outcome.retry_in)
            return "deferred"
        assert outcome.job is not None
        claimed = outcome.job.id
        status = run_job(
            ctx.db,
            ctx.store,
            runner,
            outcome.job,
            worker_id=ctx.worker_id,
            max_attempts=ctx.settings.job_max_attempts,
            stp=StpOptions.from_settings(ctx.settings),
        )
    except Exception as exc:  # database, document store or agent unavailable: retry the delivery, bounded
        if retries >= ctx.settings.job_max_attempts:
            dead_letter(ctx.db, case_id, job_id, f"worker could not run the job: {type(exc).__name__}: {exc}")
            return "dead_lettered"
        log.warning("triage delivery failed; retrying", extra={"case_id": case_id, "error": repr(exc)})
        if claimed is not None:
            _release(ctx.db, claimed, repr(exc))
        raise task.retry(
            countdown=backoff_seconds(retries + 1, ctx.options), exc=exc, max_retries=None
        ) from exc
    if status == "queued":  # the agent raised and attempts remain: the job row is queued again
        raise task.retry(countdown=backoff_seconds(outcome.job.attempts, ctx.options), max_retries=None)
    if status == "dead":  # claimed past its attempts (it killed its workers): failed, park the message
        dead_letter(ctx.db, case_id, job_id, "job claimed past its attempt limit", already_failed=True)
        return "dead_lettered"
    if status == "failed" and runner.crashed:
        dead_letter(ctx.db, case_id, job_id, "triage failed on every attempt", already_failed=True)
        return "dead_lettered"
    return status


def _release(db: Database, job_id: int, error: str) -> None:
    """Put a claimed job back to ``queued`` so any worker's retry can claim it (best effort: when the
    database itself is down the lease expires instead)."""
    from app.jobs.queue import finish

    try:
        with db.session() as session:
            finish(session, job_id, status="queued", error=error[:2000])
            session.commit()
    except Exception:
        log.warning("could not release job; its lease will expire", extra={"job_id": job_id})


@worker_app.task(name=TRIAGE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, queue=TRIAGE_QUEUE)
def triage(self: Task, case_id: str, job_id: int) -> str:
    return handle_triage(self, case_id, job_id)


@worker_app.task(
    name=EXTRACT_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    queue=TRIAGE_QUEUE,
)
def extract_document(self: Task, sha256: str, name: str) -> str:
    """Fill ``documents.extraction`` for ``sha256``; ``done`` / ``error`` / ``cached`` / ``missing``."""
    from app.db.models import Document
    from tools.documents.sandbox import extract_sandboxed

    ctx = worker_context()
    with ctx.db.session() as session:
        doc = session.get(Document, sha256)
        if doc is None:
            return "missing"
        if doc.extraction is not None or doc.extraction_error is not None:
            return "cached"
        data = ctx.store.get(sha256)
        try:
            doc.extraction = extract_sandboxed(data, name)  # time and memory limits: see the sandbox
            outcome = "done"
        except RepairDeskError as exc:  # the document is bad: record why, do not retry
            doc.extraction_error = str(exc)
            outcome = "error"
        session.commit()
    return outcome


@worker_app.task(
    name=INDEX_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=2, queue=TRIAGE_QUEUE
)
def build_index(self: Task) -> dict[str, Any]:
    """Rebuild the procedure index incrementally (re-embeds only changed chunks; safe to repeat)."""
    from tools.retrieval.index_store import build_index as build
    from tools.retrieval.procedures import default_corpus_dirs

    report = build([d for d in default_corpus_dirs() if d.is_dir()])
    return {"chunks": report.chunks, "embedded": report.embedded, "reused": report.reused}


__all__ = [
    "DEAD_LETTER_QUEUE",
    "EXTRACT_TASK",
    "INDEX_TASK",
    "TRIAGE_QUEUE",
    "TRIAGE_TASK",
    "backoff_seconds",
    "create_celery_app",
    "handle_triage",
    "worker_app",
    "worker_context",
    "worker_process",
]
