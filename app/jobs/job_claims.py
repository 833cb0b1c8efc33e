"""Claim one named job row for a broker-delivered task (the DB ``jobs`` table stays the source of truth).

A Celery message carries the job id; the broker may deliver it more than once (a worker killed before
its late acknowledgement, a visibility timeout). :func:`claim_job` decides, atomically, whether this
delivery may run the job:

- ``claimed``: the row was ``queued``, or ``running`` under a lease that has expired, that this very
  worker holds (a retry in the same process), or that a dead process of this host holds;
- ``finished``: the job is ``done`` or ``failed`` already (a duplicate delivery: acknowledge it);
- ``busy``: another live worker holds the lease; ``retry_in`` says when it expires;
- ``missing``: no such job (the case was deleted).

The claim is one conditional ``UPDATE ... RETURNING`` so two deliveries never both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.db.models import Job
from app.jobs.queue import HOST, ClaimedJob, now, pid_alive, take_job


@dataclass(frozen=True)
class ClaimOutcome:
    state: str  # claimed, finished, busy, missing
    job: ClaimedJob | None = None
    retry_in: float = 0.0


def holder_is_dead(locked_by: str | None) -> bool:
    """True when ``locked_by`` (``host:pid:instance``) names a process of this host that is gone."""
    if not locked_by:
        return False
    host, _, rest = locked_by.partition(":")
    pid_text = rest.partition(":")[0]
    return host == HOST and pid_text.isdigit() and not pid_alive(int(pid_text))


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def claim_job(session: Session, job_id: int, worker_id: str, lease_seconds: float) -> ClaimOutcome:
    """Try to take job ``job_id`` for ``worker_id`` (see the module docstring); commits."""
    row = session.execute(select(Job.status, Job.locked_by, Job.lease_until).where(Job.id == job_id)).first()
    if row is None:
        session.commit()
        return ClaimOutcome("missing")
    if row.status in {"done", "failed"}:
        session.commit()
        return ClaimOutcome("finished")
    at = now()
    takeover: list[ColumnElement[bool]] = [
        Job.status == "queued",
        Job.lease_until < at,
        Job.locked_by == worker_id,
    ]
    if row.status == "running" and holder_is_dead(row.locked_by):
        # Compare-and-set on the dead holder's id, so only one delivery wins the takeover.
        takeover.append(Job.locked_by == row.locked_by)
    where = [Job.id == job_id, Job.status.in_(("queued", "running")), or_(*takeover)]
    claimed = take_job(session, where, worker_id, lease_seconds, at)
    if claimed is not None:
        return ClaimOutcome("claimed", claimed)
    current = session.execute(select(Job.status, Job.lease_until).where(Job.id == job_id)).first()
    session.commit()
    if current is None:
        return ClaimOutcome("missing")
    if current.status in {"done", "failed"}:
        return ClaimOutcome("finished")
    remaining = (_as_utc(current.lease_until) - at).total_seconds() if current.lease_until else 1.0
    return ClaimOutcome("busy", retry_in=max(1.0, remaining))


def active_job_id(session: Session, case_id: str, kind: str = "triage") -> int | None:
    """The newest job of ``kind`` for ``case_id`` that has not finished, if any."""
    return session.scalar(
        select(Job.id)
        .where(Job.case_id == case_id, Job.kind == kind, Job.status.in_(("queued", "running")))
        .order_by(Job.id.desc())
        .limit(1)
    )
