"""The persistent job queue (``jobs`` table): enqueue, claim with a lease, finish, recover orphans.

Claiming is one ``UPDATE ... WHERE id = (SELECT ... LIMIT 1 [FOR UPDATE SKIP LOCKED]) RETURNING``:
atomic on SQLite (one writer at a time) and on PostgreSQL (row locks, skipping rows another worker
holds), so a job is never run by two workers at once. A job whose lease has expired is claimable
again, and ``requeue_orphans`` puts back at once the jobs of workers on this host that are gone.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import ColumnElement, Table, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.db.models import Job

HOST = socket.gethostname()[:60]


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    case_id: str
    attempts: int


def now() -> datetime:
    return datetime.now(UTC)


# A Core insert on the session's connection: an ORM flush for this one row cost about a sixth of a
# POST /v1/exceptions, which enqueues a job for every case.
_INSERT_JOB = insert(cast(Table, Job.__table__)).values(status="queued", attempts=0)


def enqueue(session: Session, case_id: str, kind: str = "triage") -> None:
    """Queue a ``kind`` job for ``case_id`` in the caller's transaction (the caller commits)."""
    session.connection().execute(_INSERT_JOB, {"case_id": case_id, "kind": kind})


def _claimable(at: datetime) -> ColumnElement[bool]:
    return or_(Job.status == "queued", (Job.status == "running") & (Job.lease_until < at))


def claim(session: Session, worker_id: str, lease_seconds: float) -> ClaimedJob | None:
    """Take the oldest claimable job for ``worker_id``; commits. ``None`` when the queue is empty."""
    at = now()
    candidate = (
        select(Job.id).where(_claimable(at)).order_by(Job.id).limit(1).with_for_update(skip_locked=True)
    ).scalar_subquery()
    return take_job(session, [Job.id == candidate, _claimable(at)], worker_id, lease_seconds, at)


def take_job(
    session: Session, where: list[ColumnElement[bool]], worker_id: str, lease_seconds: float, at: datetime
) -> ClaimedJob | None:
    """The one conditional ``UPDATE ... RETURNING`` that hands a job row to ``worker_id``; commits.

    Shared by the in-process pool's :func:`claim` and the broker's :func:`app.jobs.job_claims.claim_job`,
    which differ only in which row may be taken (``where``)."""
    row = session.execute(
        update(Job)
        .where(*where)
        .values(
            status="running",
            locked_by=worker_id,
            lease_until=at + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
            started_at=at,
        )
        .returning(Job.id, Job.case_id, Job.attempts)
    ).first()
    session.commit()
    return ClaimedJob(id=row.id, case_id=row.case_id, attempts=row.attempts) if row else None


def finish(session: Session, job_id: int, *, status: str, error: str | None = None) -> None:
    """Mark a job ``done``, ``failed`` or ``queued`` (retry) in the caller's transaction."""
    values: dict[str, object] = {
        "status": status,
        "last_error": error,
        "locked_by": None,
        "lease_until": None,
    }
    if status in {"done", "failed"}:
        values["finished_at"] = now()
    session.execute(update(Job).where(Job.id == job_id).values(**values))


def extend_lease(session: Session, job_id: int, worker_id: str, lease_seconds: float) -> bool:
    """Push the lease of a job this worker still holds; commits. ``False`` if it lost the job."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id, Job.status == "running")
        .values(lease_until=now() + timedelta(seconds=lease_seconds))
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0))


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host is running. A zombie is not: it has exited and holds
    nothing, but stays in the process table until reaped, which may be never where PID 1 does not
    reap orphans (a killed worker node's pool processes in some containers and VMs)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (not Linux), or it exited just now: the signal said it existed
        return True
    return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])


def requeue_orphans(session: Session, live_instances: set[str]) -> int:
    """Requeue running jobs held by workers of this host that no longer exist; commits; returns how many.

    Worker ids are ``host:pid:instance``; a worker is gone when its process is dead, or when it is
    this process but its pool instance is not among ``live_instances`` (an app restarted in-process).
    """
    rows = session.execute(
        select(Job.id, Job.locked_by).where(Job.status == "running", Job.locked_by.like(f"{HOST}:%"))
    ).all()
    orphaned = []
    for job_id, locked_by in rows:
        _host, pid_text, instance = ([*str(locked_by).split(":"), "", ""])[:3]
        pid = int(pid_text) if pid_text.isdigit() else -1
        if (pid != os.getpid() and not pid_alive(pid)) or (
            pid == os.getpid() and instance not in live_instances
        ):
            orphaned.append(job_id)
    if orphaned:
        session.execute(
            update(Job).where(Job.id.in_(orphaned)).values(status="queued", locked_by=None, lease_until=None)
        )
    session.commit()
    return len(orphaned)


def queue_depth(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Job).where(Job.status == "queued")) or 0)
