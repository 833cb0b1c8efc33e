"""The dead-letter queue of triage tasks: park exhausted jobs, list them, replay them after a fix.

Contract:

- ``dead_letter(db, case_id, job_id, reason)``: mark the job ``failed`` and the case ``failed`` (with
  an audit event) in the database, then publish the task to ``repairdesk-dead-letters``, a queue no
  worker consumes (on SQS, the predefined dead-letter queue; without its URL only the database records
  it). The database stays the source of truth: a publish that fails is logged, never raised.
- ``replay_dead_letters(db, limit)``: take up to ``limit`` messages off the dead-letter queue, put each
  job and case back to ``queued`` (audit event ``triage_requeued``) and publish a fresh triage task.
  Returns the case ids replayed. A message whose job no longer exists is dropped.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from sqlalchemy import select, update

from app.db.models import Case, Job
from app.db.session import Database
from app.jobs.celery_config import DEAD_LETTER_QUEUE, TRIAGE_QUEUE, WorkerOptions, plan_broker
from app.services.audit import append_event

log = logging.getLogger("repairdesk.jobs.dead_letters")


def _can_publish(options: WorkerOptions) -> bool:
    if not options.broker:
        return False
    plan = plan_broker(options)
    queues = plan.transport_options.get("predefined_queues")
    return queues is None or DEAD_LETTER_QUEUE in queues


def dead_letter(
    db: Database, case_id: str, job_id: int, reason: str, *, already_failed: bool = False
) -> None:
    """Fail the job and case (unless ``already_failed``) and park the task on the dead-letter queue."""
    from app.jobs.celery_wire import TRIAGE_TASK, worker_app
    from app.jobs.process import _fail_case
    from app.jobs.queue import finish

    if not already_failed:
        with db.session() as session:
            finish(session, job_id, status="failed", error=reason[:2000])
            session.commit()
        _fail_case(db, case_id, reason)
    log.error("triage job dead-lettered", extra={"case_id": case_id, "job_id": job_id, "reason": reason})
    if not _can_publish(WorkerOptions.from_settings()):
        return
    try:
        worker_app.send_task(
            TRIAGE_TASK,
            args=(case_id, job_id),
            queue=DEAD_LETTER_QUEUE,
            headers={"repairdesk_reason": reason[:500]},
        )
    except Exception:  # the database already records the failure
        log.exception("could not publish to the dead-letter queue", extra={"case_id": case_id})


def _requeue(db: Database, case_id: str, job_id: int) -> bool:
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            return False
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="queued", attempts=0, locked_by=None, lease_until=None, finished_at=None)
        )
        case = session.scalar(select(Case).where(Case.id == case_id))
        if case is not None and case.status == "failed":
            case.status = "queued"
            case.error = None
            append_event(
                session, event="triage_requeued", actor="operator", case_id=case_id, data={"job_id": job_id}
            )
        session.commit()
    return True


def _task_args(body: Any) -> tuple[str, int] | None:
    # Celery message protocol 2: [args, kwargs, embed].
    if isinstance(body, list | tuple) and body and isinstance(body[0], list | tuple) and len(body[0]) == 2:
        case_id, job_id = body[0]
        if isinstance(case_id, str) and isinstance(job_id, int):
            return case_id, job_id
    return None


def replay_dead_letters(db: Database, limit: int = 1000, celery: Celery | None = None) -> list[str]:
    """Move up to ``limit`` dead-lettered triage tasks back to work (see the module docstring)."""
    from app.jobs.celery_wire import TRIAGE_TASK, worker_app

    app = celery or worker_app
    replayed: list[str] = []
    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue(DEAD_LETTER_QUEUE)
        try:
            while len(replayed) < limit:
                try:
                    message = queue.get(block=True, timeout=1)
                except queue.Empty:
                    break
                args = _task_args(message.decode())
                if args is not None and _requeue(db, *args):
                    app.send_task(TRIAGE_TASK, args=args, queue=TRIAGE_QUEUE)
                    replayed.append(args[0])
                else:
                    log.warning(
                        "dropping an unreadable or orphaned dead letter",
                        extra={"body": str(message.body)[:200]},
                    )
                message.ack()
        finally:
            queue.close()
    return replayed


def dead_letter_depth(celery: Celery | None = None) -> int:
    """How many messages wait on the dead-letter queue."""
    from app.jobs.dispatch import broker_queue_depth

    return broker_queue_depth(DEAD_LETTER_QUEUE, celery)
