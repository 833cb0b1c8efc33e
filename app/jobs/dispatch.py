"""Where triage jobs run: the in-process pool (default) or Celery workers (``REPAIRDESK_BROKER``).

Contract:

- ``uses_broker(settings)``: True when ``settings.broker`` is set (``redis://...`` or ``sqs://...``).
  The API then starts no in-process pool and ``repairdesk worker`` starts a Celery worker.
- ``submit(db, case_id)``: after the transaction that created the case (and its ``jobs`` row) has
  committed, publish ``repairdesk.triage(case_id, job_id)``. Publishing twice is harmless (the task
  claims the job row first). Returns the job id published, or ``None`` when the case has no open job.
- ``notify(db, case_id)``: ``submit`` for the API request path: a broker error is logged, not raised.
- ``submit_extraction(sha256, name)`` / ``submit_index_build()``: the other distributed tasks.
- ``republish_queued(db, older_than)``: publish a task for every job still ``queued`` after
  ``older_than`` seconds (a crash between commit and publish) or ``running`` under an expired lease;
  the runbook's repair for a stuck queue. ``republish_when_idle`` does it only when the triage
  queue is empty: each Celery worker runs it every so often (``republish_after``).
- ``run_celery_worker(celery, concurrency, ...)``: run a Celery worker in this process until SIGTERM/SIGINT
  (warm shutdown: the running task finishes; a task cut off later is redelivered thanks to late
  acknowledgement). Returns the worker's exit code.
- ``check_worker(settings)``: readiness for the worker container: the broker (its triage queue, so
  an SQS queue that does not exist or cannot be reached counts) and the database answer; returns the
  problems found (empty when ready).
"""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

from celery import Celery
from sqlalchemy import or_, select, text

from app.db.models import Job
from app.db.session import Database
from app.jobs.celery_config import TRIAGE_QUEUE
from app.jobs.job_claims import active_job_id
from app.jobs.queue import now
from app.settings import Settings

log = logging.getLogger("repairdesk.jobs.dispatch")


def uses_broker(settings: Settings) -> bool:
    return bool(settings.broker)


def submit(db: Database, case_id: str, celery: Celery | None = None) -> int | None:
    """Publish the open triage job of ``case_id`` to the broker (see the module docstring).

    ``celery`` defaults to the process-wide app configured from the environment."""
    from app.jobs.celery_wire import TRIAGE_TASK, worker_app

    with db.session() as session:
        job_id = active_job_id(session, case_id)
    if job_id is None:
        return None
    (celery or worker_app).send_task(TRIAGE_TASK, args=(case_id, job_id), queue=TRIAGE_QUEUE)
    return job_id


def notify(db: Database, case_id: str) -> bool:
    """``submit`` for the API: a broker that cannot be reached is logged, not raised. The case is
    committed and its job stays ``queued``; ``repairdesk jobs republish`` publishes it later."""
    try:
        submit(db, case_id)
    except Exception:
        log.exception("could not publish the triage task; the job stays queued", extra={"case_id": case_id})
        return False
    return True


def submit_extraction(sha256: str, name: str, celery: Celery | None = None) -> None:
    """Publish ``repairdesk.extract_document`` for a stored document (cached once extracted)."""
    from app.jobs.celery_wire import EXTRACT_TASK, worker_app

    (celery or worker_app).send_task(EXTRACT_TASK, args=(sha256, name), queue=TRIAGE_QUEUE)


def submit_index_build(celery: Celery | None = None) -> None:
    """Publish ``repairdesk.build_index`` (incremental; running it twice re-embeds nothing)."""
    from app.jobs.celery_wire import INDEX_TASK, worker_app

    (celery or worker_app).send_task(INDEX_TASK, queue=TRIAGE_QUEUE)


def republish_queued(db: Database, older_than: float = 60.0, celery: Celery | None = None) -> int:
    """Publish a task for each job queued longer than ``older_than`` seconds, and for each job left
    ``running`` under an expired lease (its worker vanished and its message was lost); returns how many."""
    from app.jobs.celery_wire import TRIAGE_TASK, worker_app

    at = now()
    cutoff = at - timedelta(seconds=older_than)
    stale = or_(
        (Job.status == "queued") & (Job.created_at <= cutoff),
        (Job.status == "running") & (Job.lease_until < at),
    )
    with db.session() as session:
        rows = session.execute(select(Job.id, Job.case_id).where(stale).order_by(Job.id)).all()
    for job_id, case_id in rows:
        (celery or worker_app).send_task(TRIAGE_TASK, args=(case_id, job_id), queue=TRIAGE_QUEUE)
    return len(rows)


def republish_when_idle(db: Database, older_than: float, celery: Celery | None = None) -> int:
    """:func:`republish_queued` when the triage queue is empty, else nothing; returns how many.

    Why: a worker killed between taking a message off a Redis list and recording it as
    unacknowledged loses it, and its job stays ``queued`` with no message anywhere. With messages
    still waiting, an old queued job is most likely just behind them; once the queue is empty, a
    job queued for ``older_than`` seconds has none. A duplicate is harmless: the task claims its
    job row first, and a done job's message is acknowledged without work."""
    if broker_queue_depth(TRIAGE_QUEUE, celery) > 0:
        return 0
    return republish_queued(db, older_than, celery)


def broker_queue_depth(queue: str = TRIAGE_QUEUE, celery: Celery | None = None) -> int:
    """Messages waiting on a broker queue (0 for a queue the broker does not know)."""
    from app.jobs.celery_wire import worker_app

    with (celery or worker_app).connection_for_read() as connection:
        simple = connection.SimpleQueue(queue)
        try:
            return int(simple.qsize())
        except connection.channel_errors:  # Redis forgets an emptied queue: nothing waits on it
            return 0
        finally:
            simple.close()


def worker_argv(
    concurrency: int, *, loglevel: str = "INFO", node: str | None = None, pool: str | None = None
) -> list[str]:
    """The ``celery worker`` arguments: by default one solo process for 1, a prefork pool otherwise."""
    pool = pool or ("solo" if concurrency == 1 else "prefork")
    pool_args = ["--pool=solo"] if pool == "solo" else [f"--pool={pool}", f"--concurrency={concurrency}"]
    return [
        "worker",
        *pool_args,
        f"--queues={TRIAGE_QUEUE}",
        f"--hostname={node or 'repairdesk@' + socket.gethostname()}",
        f"--loglevel={loglevel}",
        # Workers coordinate through the database and the broker only: no gossip, mingle or heartbeat
        # chatter (which grows with the fleet and is not needed for correctness).
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def run_celery_worker(
    celery: Celery, concurrency: int = 1, *, loglevel: str = "INFO", node: str | None = None
) -> int:
    """Run a Celery worker of ``celery`` in this process until it is stopped; returns its exit code.

    ``celery`` is :data:`app.jobs.celery_app.worker_app`, passed in by the caller: that module
    registers the tasks and imports this one, so importing it here would close an import cycle."""
    try:
        celery.worker_main(argv=worker_argv(concurrency, loglevel=loglevel, node=node))
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 1
    return 0


def check_worker(settings: Settings, timeout: float = 5.0) -> list[str]:
    """Problems that make this worker unready (broker or database unreachable); empty when ready."""
    from app.jobs.celery_wire import worker_app

    problems: list[str] = []
    if uses_broker(settings):
        try:
            with worker_app.connection_for_read() as connection:
                connection.ensure_connection(max_retries=1, timeout=timeout)
            # kombu's SQS connection is virtual (nothing is sent until a queue is used): ask the triage
            # queue itself, which proves the endpoint answers, the queue exists and it may be read.
            broker_queue_depth()
        except Exception as exc:  # report, never raise: a health check is a yes/no answer
            problems.append(f"broker: {type(exc).__name__}")
    try:
        with Database(settings.database_url).session() as session:
            session.execute(text("SELECT 1 FROM jobs LIMIT 1"))
    except Exception as exc:
        problems.append(f"database: {type(exc).__name__}")
    return problems
