"""Reviewer decisions: approve, edit, reject, with maker-checker by content, crash-safe.

Rules:
- only a case in ``pending_review`` with no decision being applied takes a decision (409 otherwise);
- ``approve`` and ``reject`` need the ``approver`` role; ``edit`` also ``analyst`` (403 otherwise);
- a decision may name the proposal version it was made on (``proposal_version`` or ``If-Match``);
  when that is not the current version it is refused with 409 and nothing changes;
- ``edit`` is re-validated (:func:`app.services.edits.validate_changes`: 422 naming the field, nothing
  stored) and re-guarded (:func:`app.services.edits.guard_edit`); it is stored as a new proposal
  version by that user carrying its own guard verdict, rationale and no confidence, and the case
  stays in review: someone else must approve it;
- ``approve`` is refused (403) to anyone who authored any part of the content: the submitter and
  every author of an edit of this case, identical or not (maker-checker by content); a proposal
  whose guard failed cannot be approved (422); analyst-asserted content needs two approvals by
  different approvers (the first is recorded as ``first_approval``).

Atomicity (issue 19): the checkpointer may live in another database (SQLite file) than the cases,
so a decision is an outbox. The request's one transaction writes the decision *intent*
(``decisions.state = pending`` with the exact ``resume_input``), its audit event and a ``decision``
job, and commits. The graph's continuation then runs as that job (:func:`apply_decision`), outside
any open transaction: resuming the thread is idempotent (a finished thread returns its result; one
stopped after the decision runs on), and the case update, the ``decision_applied`` event, the
labelled case and the job's completion commit together, guarded by ``state = pending``. The request
runs the job itself right away (so it answers with the final status); if the process dies first,
the start-up recovery pass (:func:`recover`) or any worker runs it. After a kill at any moment a case
is either undecided and decidable, or decided exactly once with what was decided.
"""

from __future__ import annotations

import base64
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from agents import contract
from app import metrics
from app.api.schemas import DecisionIn
from app.db.models import Case, Decision, Job, LabelledCase, Proposal
from app.db.session import Database
from app.errors import ConflictError, ForbiddenError, UnavailableError
from app.jobs.job_claims import active_job_id, claim_job
from app.jobs.queue import HOST, enqueue, finish
from app.jobs.triage import Runners
from app.services.audit import append_event
from app.services.cases import get_case, latest_proposal
from app.services.document_store import DocumentStore
from app.services.edits import guard_edit, message_format, validate_changes
from tools.errors import RepairDeskError, ValidationError
from tools.faults import crash_point

log = logging.getLogger("repairdesk.decisions")

ROLES_FOR = {"approve": {"approver"}, "reject": {"approver"}, "edit": {"approver", "analyst"}}
MAX_LABEL_DOCUMENT_BYTES = 2 * 1024 * 1024
DECISION_JOB = "decision"
WAIT_FOR_OTHER_WORKER_SECONDS = 30.0
FINAL_FOR = {"reject": {"rejected"}, "approve": {"approved", "applied", "failed"}}


def _norm(changes: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return sorted((str(c.get("field")), c.get("new")) for c in changes)


def _check(case: Case, body: DecisionIn, role: str, current: list[dict[str, Any]] | None) -> None:
    """Role, status and shape checks; ``current`` (the proposal's changes, read under the lock) also
    checks that an approve restates them unchanged (``None``: not yet)."""
    if role not in ROLES_FOR[body.decision]:
        allowed = " or ".join(sorted(ROLES_FOR[body.decision]))
        raise ForbiddenError(
            f"{body.decision} needs the {allowed} role; you are {role}", source=f"case {case.id}"
        )
    if case.status != "pending_review":
        raise ConflictError(f"case is {case.status}, not pending_review", source=f"case {case.id}")
    if body.decision == "edit" and not body.changes:
        raise ValidationError("an edit needs the changed repair in `changes`", source="changes")
    approving_other = body.decision == "approve" and body.changes and current is not None
    if approving_other and _norm([c.model_dump() for c in body.changes]) != _norm(current or []):
        raise ValidationError(
            "approve takes the repair as proposed; use decision=edit to change it", source="changes"
        )


def content_authors(session: Session, case: Case) -> set[str]:
    """Everyone who authored part of the case's content: the submitter and every editor."""
    editors = session.scalars(
        select(Proposal.author).where(Proposal.case_id == case.id, Proposal.source == "edit")
    ).all()
    edit_decisions = session.scalars(
        select(Decision.user).where(Decision.case_id == case.id, Decision.decision == "edit")
    ).all()
    return {case.created_by, *editors, *edit_decisions} - {None, ""}


def _label(
    session: Session, store: DocumentStore, case: Case, decision: Decision, outcome: dict[str, Any]
) -> None:
    agent = latest_proposal(session, case.id, source="agent")
    case_input = dict(case.payload)
    docs, total = [], 0
    for ref in case.payload.get("documents", []):
        data = store.get(ref["sha256"]) if store.exists(ref["sha256"]) else b""
        total += len(data)
        entry = {"name": ref["name"], "sha256": ref["sha256"]}
        if data and total <= MAX_LABEL_DOCUMENT_BYTES:  # keep the dataset replayable, within reason
            entry["content_base64"] = base64.b64encode(data).decode()
        docs.append(entry)
    case_input["documents"] = docs
    record = {
        "case_id": case.id,
        "case": case_input,
        "proposal": agent.payload if agent else None,
        "decision": decision.decision,
        "user": decision.user,
        "comment": decision.comment,
        "changes": decision.changes,
        "reason_code": decision.reason_code,
        "correct_action": decision.correct_action,
        "outcome": outcome,
        "decided_at": decision.created_at.isoformat(),
    }
    session.add(LabelledCase(case_id=case.id, decision_id=decision.id, record=record))


@dataclass(frozen=True)
class Recorded:
    """What the request's transaction committed: the decision, and the job to run (approve/reject)."""

    decision_id: int
    job_id: int | None


def _lock(session: Session, case: Case) -> None:
    # Lock the case row (write lock on SQLite) while still in review, so two concurrent decisions
    # cannot both pass the checks: the second one waits, then finds the status or intent changed.
    locked = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == "pending_review")
        .values(updated_at=datetime.now(UTC))
    )
    if getattr(locked, "rowcount", 1) != 1:
        session.rollback()
        raise ConflictError("case was decided by someone else meanwhile", source=f"case {case.id}")
    pending = session.scalar(
        select(Decision.id).where(Decision.case_id == case.id, Decision.state == "pending").limit(1)
    )
    if pending is not None:
        session.rollback()
        raise ConflictError("a decision on this case is being applied", source=f"case {case.id}")
    session.refresh(case)


def _stored_proposal(row: Any) -> contract.Proposal | None:
    """A stored proposal read through the contract; one that no longer fits (stored before the
    contract) counts as none, so an edit's evidence is trusted only through the runner's check."""
    if row is None:
        return None
    try:
        return contract.Proposal.model_validate(row.payload)
    except PydanticValidationError:
        return None


def _refuse(session: Session, error: RepairDeskError) -> None:
    session.rollback()
    raise error


def record_decision(
    session: Session,
    store: DocumentStore,
    runner: Any,
    case_id: str,
    body: DecisionIn,
    *,
    user: str,
    role: str,
    if_match: int | None = None,
) -> Recorded:
    """The request's one transaction (see the module docstring); commits."""
    case = get_case(session, case_id)
    _check(case, body, role, None)
    _lock(session, case)
    current_prop = latest_proposal(session, case.id)  # read under the lock: an edit cannot slip in
    current = list(current_prop.payload.get("changes", [])) if current_prop else []
    version = current_prop.version if current_prop else 0
    named = {v for v in (body.proposal_version, if_match) if v is not None}
    if len(named) > 1:
        _refuse(session, ValidationError("If-Match and proposal_version disagree", source="proposal_version"))
    if named and named != {version}:
        _refuse(
            session,
            ConflictError(
                f"the decision was made on proposal version {named.pop()}, the current one is {version}",
                source=f"case {case.id}",
            ),
        )
    try:
        _check(case, body, role, current)
    except RepairDeskError as exc:
        _refuse(session, exc)
    guard = (current_prop.payload.get("guard") if current_prop else None) or {}
    first_approvals: list[Decision] = []
    if body.decision == "approve":
        if user in content_authors(session, case):
            _refuse(
                session,
                ForbiddenError(
                    f"maker-checker: {user} submitted or edited this case's repair and cannot approve it",
                    source=f"case {case.id}",
                ),
            )
        if current and guard.get("passed") is False:
            _refuse(
                session,
                ValidationError(
                    "the proposal's guard failed; edit it with trusted evidence before approving",
                    source=f"case {case.id}",
                ),
            )
        first_approvals = list(
            session.scalars(
                select(Decision).where(
                    Decision.case_id == case.id,
                    Decision.state == "first_approval",
                    Decision.proposal_version == version,
                )
            )
        )
        if any(d.user == user for d in first_approvals):
            _refuse(
                session,
                ForbiddenError(
                    "analyst-asserted content needs a second, different approver", source=f"case {case.id}"
                ),
            )
    changes = [c.model_dump(exclude_none=True) for c in body.changes]
    if body.decision == "edit":
        try:
            validate_changes(changes, message_format(case.payload))
        except RepairDeskError as exc:
            _refuse(session, exc)
    decision = Decision(
        case_id=case.id,
        decision=body.decision,
        user=user,
        comment=body.comment,
        changes=changes,
        proposal_version=version or None,
        reason_code=body.reason_code,
        correct_action=body.correct_action,
        state="applied",
    )
    event: dict[str, Any] = {
        "decision": body.decision,
        "comment": body.comment,
        "changes": changes,
        "proposal_version": version or None,
    }
    if body.reason_code or body.correct_action:
        event |= {"reason_code": body.reason_code, "correct_action": body.correct_action}
    job_id: int | None = None
    if body.decision == "edit":
        agent = latest_proposal(session, case.id, source="agent")
        edit_guard = guard_edit(list(body.changes), _stored_proposal(agent), runner, case.id)
        base = contract.Proposal.model_validate(current_prop.payload) if current_prop else None
        payload = (
            (base or contract.Proposal(action="repair"))
            .edited(
                [contract.Change.model_validate(c) for c in changes],
                edit_guard,
                f"Edited by {user}: {body.comment}".strip(),
            )
            .dump()
        )
        new_version = version + 1
        session.add(
            Proposal(case_id=case.id, version=new_version, source="edit", author=user, payload=payload)
        )
        case.edited_by = user
        case.confidence = None
        decision.state = "applied"
        decision.applied_at = datetime.now(UTC)
        event |= {"status": "pending_review", "edited_version": new_version, "guard": edit_guard.dump()}
    elif body.decision == "approve" and guard.get("second_approver_required") and not first_approvals:
        decision.state = "first_approval"
        event |= {"status": "pending_review", "first_approval": True}
    else:
        decision.state = "pending"
        decision.resume_input = contract.Decision(
            decision="edit" if (body.decision == "approve" and case.edited_by) else body.decision,
            changes=[
                contract.EditedChange.model_validate(c)
                for c in (current if body.decision == "approve" else changes)
            ],
            comment=body.comment,
            user=user,
        ).dump()
        enqueue(session, case.id, kind=DECISION_JOB)
    session.add(decision)
    session.flush()
    event["decision_id"] = decision.id
    append_event(session, event=f"decision_{body.decision}", actor=user, case_id=case.id, data=event)
    if decision.state == "pending":
        job_id = active_job_id(session, case.id, kind=DECISION_JOB)
    elif body.decision == "edit":
        _label(session, store, case, decision, {"status": case.status, "proposal_version": version + 1})
    crash_point("decision.before_commit")
    session.commit()
    crash_point("decision.after_commit")
    metrics.DECISIONS.labels(decision=body.decision).inc()
    return Recorded(decision.id, job_id)


def _fail_decision(session: Session, case: Case, decision: Decision, reason: str) -> None:
    decision.state = "failed"
    decision.applied_at = datetime.now(UTC)
    case.status = "failed"
    case.error = reason
    append_event(
        session,
        event="decision_failed",
        actor="worker",
        case_id=case.id,
        data={
            "decision_id": decision.id,
            "decision": decision.decision,
            "status": "failed",
            "reason": reason,
        },
    )


def apply_decision(
    db: Database, store: DocumentStore, runners: Runners, case_id: str, job_id: int | None = None
) -> str:
    """Run the graph's continuation for the case's pending decision and commit its outcome, once.

    Idempotent (see the module docstring); returns the case's status afterwards."""
    with db.session() as session:
        decision = session.scalar(
            select(Decision)
            .where(Decision.case_id == case_id, Decision.state == "pending")
            .order_by(Decision.id)
            .limit(1)
        )
        if decision is None:
            if job_id is not None:
                finish(session, job_id, status="done")
                session.commit()
            return str(session.scalar(select(Case.status).where(Case.id == case_id)) or "missing")
        decision_id, resume_input, kind = decision.id, dict(decision.resume_input or {}), decision.decision
        thread_id, triage_model = _thread_of(session, case_id)
        session.rollback()
    crash_point("continuation.before_resume")
    error: str | None = None
    result: dict[str, Any] = {}
    try:
        # A re-triaged case waits on its own agent thread, maybe of another model (the desk's re-triage).
        result = runners.get(triage_model).resume(thread_id, resume_input)
    except RepairDeskError as exc:  # the thread is gone or was decided otherwise: fail, never guess
        error = f"the decision could not be applied: {exc}"
    crash_point("continuation.after_resume")
    status = str(result.get("status") or ("rejected" if kind == "reject" else "applied"))
    taken = (result.get("decision") or {}).get("decision")
    if error is None and taken is not None and taken != resume_input.get("decision"):
        error = f"the graph recorded {taken!r} for a {resume_input.get('decision')!r} decision"
    if error is None and status not in FINAL_FOR[kind]:
        error = f"the graph ended {status!r} for a {kind}"  # a reject never ends applied
    with db.session() as session:
        claimed = session.execute(
            update(Decision)
            .where(Decision.id == decision_id, Decision.state == "pending")
            .values(state="applied", applied_at=datetime.now(UTC))
        )
        if getattr(claimed, "rowcount", 0) != 1:  # applied meanwhile by another runner of this job
            session.rollback()
            return str(session.scalar(select(Case.status).where(Case.id == case_id)) or "missing")
        case = get_case(session, case_id)
        decision = session.get(Decision, decision_id)
        assert decision is not None
        if error is not None:
            log.error("decision failed", extra={"case_id": case_id, "reason": error})
            _fail_decision(session, case, decision, error)
        else:
            case.status = status
            case.final_changes = result.get("final_changes")
            case.repaired_message = result.get("repaired_message")
            case.error = result.get("error")
            append_event(
                session,
                event="decision_applied",
                actor="worker",
                case_id=case.id,
                data={
                    "decision_id": decision_id,
                    "decision": kind,
                    "status": status,
                    "final_changes": case.final_changes,
                },
            )
        _label(session, store, case, decision, {"status": case.status, "final_changes": case.final_changes})
        if job_id is not None:
            finish(session, job_id, status="done")
        crash_point("continuation.before_commit")
        session.commit()
        crash_point("continuation.after_commit")
        return case.status


API_WORKER = "api"  # the pool instance name of a request that runs its own decision job


def run_decision_job(
    db: Database,
    store: DocumentStore,
    runners: Runners,
    case_id: str,
    job_id: int,
    lease_seconds: float = 600.0,
) -> str:
    """Claim the decision job and run it here; if another live worker holds it, wait for it."""
    worker_id = f"{HOST}:{os.getpid()}:{API_WORKER}"
    deadline = time.monotonic() + WAIT_FOR_OTHER_WORKER_SECONDS
    while True:
        with db.session() as session:
            outcome = claim_job(session, job_id, worker_id, lease_seconds)
        if outcome.state == "claimed":
            crash_point("continuation.claimed")
            try:
                return apply_decision(db, store, runners, case_id, job_id)
            except Exception as exc:  # the intent is committed: hand the job to the workers, say so
                log.exception("decision continuation failed; queued for a worker", extra={"case_id": case_id})
                with db.session() as session:
                    finish(session, job_id, status="queued", error=f"{type(exc).__name__}: {exc}"[:2000])
                    session.commit()
                raise UnavailableError(
                    "the decision is recorded; applying it failed and is queued for a retry",
                    source=f"case {case_id}",
                ) from exc
        if outcome.state != "busy" or time.monotonic() > deadline:
            with db.session() as session:
                return str(session.scalar(select(Case.status).where(Case.id == case_id)))
        time.sleep(0.05)


def decide(
    session: Session,
    store: DocumentStore,
    runners: Runners,
    case_id: str,
    body: DecisionIn,
    *,
    user: str,
    role: str,
    if_match: int | None = None,
    db: Database | None = None,
) -> Case:
    """Record ``body`` for ``user``/``role`` (one transaction), then run the continuation job outside
    it; returns the case as it stands afterwards."""
    recorded = record_decision(
        session, store, runners.get(), case_id, body, user=user, role=role, if_match=if_match
    )
    if recorded.job_id is not None:
        database = db or _database_of(session)
        run_decision_job(database, store, runners, case_id, recorded.job_id)
    session.expire_all()
    return get_case(session, case_id)


def _database_of(session: Session) -> Database:
    """A :class:`Database` on the session's engine (callers that pass only a session: the UI)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    url = engine.url.render_as_string(hide_password=False)
    return Database(url, audit_key=session.info.get("audit_key"))


@dataclass(frozen=True)
class Recovery:
    requeued: int
    applied: int
    failed: int


def recover(db: Database, store: DocumentStore, runners: Runners) -> Recovery:
    """Start-up pass: finish every recorded decision whose continuation did not commit, and fail
    (with the reason) cases whose checkpoint took a decision the database never recorded (a crash
    before this design), so that no case is left undecidable."""
    requeued = applied = failed = 0
    with db.session() as session:
        pending = (
            session.execute(select(Decision.case_id).where(Decision.state == "pending").order_by(Decision.id))
            .scalars()
            .all()
        )
        for case_id in pending:
            if active_job_id(session, case_id, kind=DECISION_JOB) is None:
                enqueue(session, case_id, kind=DECISION_JOB)
                requeued += 1
        session.commit()
        jobs = session.execute(
            select(Job.id, Job.case_id)
            .where(Job.kind == DECISION_JOB, Job.status.in_(("queued", "running")))
            .order_by(Job.id)
        ).all()
    runner = runners.get() if (jobs or _has_pending_review(db)) else None
    for job_id, case_id in jobs:
        with db.session() as session:
            outcome = claim_job(session, job_id, f"{HOST}:{os.getpid()}:{API_WORKER}", 600.0)
        if outcome.state == "claimed" and apply_decision(db, store, runners, case_id, job_id) != "failed":
            applied += 1
    get_state = getattr(runner, "get_state", None)
    if callable(get_state):
        failed = _reconcile_checkpoints(db, get_state)
    return Recovery(requeued, applied, failed)


def _has_pending_review(db: Database) -> bool:
    with db.session() as session:
        count = session.scalar(select(func.count()).select_from(Case).where(Case.status == "pending_review"))
        return bool(count)


def _thread_of(session: Session, case_id: str) -> tuple[str, str | None]:
    """The agent thread a case waits on and its model: its own id unless it was re-triaged."""
    row = session.execute(
        select(Case.triage_thread, Case.triage_model).where(Case.id == case_id)
    ).one_or_none()
    if row is None:
        return case_id, None
    return row.triage_thread or case_id, row.triage_model


def _reconcile_checkpoints(db: Database, get_state: Any) -> int:
    failed = 0
    with db.session() as session:
        rows = session.execute(
            select(Case.id, Case.triage_thread, Case.triage_model).where(Case.status == "pending_review")
        ).all()
    for case_id, thread_id, triage_model in rows:
        if triage_model:
            continue  # waits on another model's runner: its checkpoint is not this runner's to judge
        state = get_state(thread_id or case_id)
        if state is None or state.get("status") in ("pending_review", None):
            continue
        if state.get("status") == "running" and not set(state.get("next") or ()) <= {"apply", "record"}:
            continue  # waiting in or before review: still decidable through the graph
        reason = "the graph took a decision that the database never recorded (a crash); resubmit the case"
        with db.session() as session:
            case = get_case(session, case_id)
            pending = session.scalar(
                select(Decision.id).where(Decision.case_id == case_id, Decision.state == "pending")
            )
            if case.status != "pending_review" or pending is not None:
                continue
            case.status, case.error = "failed", reason
            append_event(
                session,
                event="decision_lost",
                actor="recovery",
                case_id=case_id,
                data={"status": "failed", "reason": reason},
            )
            session.commit()
            failed += 1
    return failed
