"""Reviewer decisions: approve, edit, reject, with maker-checker.

Rules:
- only a case in ``pending_review`` takes a decision (409 otherwise);
- ``approve`` and ``reject`` need the ``approver`` role; ``edit`` also ``analyst`` (403 otherwise);
- ``edit`` stores the changed repair as a new proposal version by that user and keeps the case in
  review: someone else must approve it;
- ``approve`` is refused (403) to the user who submitted the case or edited the repair (maker-checker);
  the agent is then resumed with ``approve`` (or ``edit`` and the edited changes);
- every decision writes a ``decisions`` row, a labelled case for evaluation and an audit event.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import metrics
from app.api.schemas import DecisionIn
from app.db.models import Case, Decision, LabelledCase, Proposal
from app.errors import ConflictError, ForbiddenError
from app.jobs.triage import TriageBackend, get_runner
from app.services.audit import append_event
from app.services.cases import get_case, latest_proposal
from app.services.document_store import DocumentStore
from tools import config
from tools.errors import ValidationError

ROLES_FOR = {"approve": {"approver"}, "reject": {"approver"}, "edit": {"approver", "analyst"}}
MAX_LABEL_DOCUMENT_BYTES = 2 * 1024 * 1024


def _norm(changes: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return sorted((str(c.get("field")), c.get("new")) for c in changes)


def _check(case: Case, body: DecisionIn, user: str, role: str, current: list[dict[str, Any]]) -> None:
    if role not in ROLES_FOR[body.decision]:
        allowed = " or ".join(sorted(ROLES_FOR[body.decision]))
        raise ForbiddenError(
            f"{body.decision} needs the {allowed} role; you are {role}", source=f"case {case.id}"
        )
    if case.status != "pending_review":
        raise ConflictError(f"case is {case.status}, not pending_review", source=f"case {case.id}")
    if body.decision == "edit" and not body.changes:
        raise ValidationError("an edit needs the changed repair in `changes`", source="changes")
    if body.decision == "approve":
        makers = {case.created_by, case.edited_by} - {None}
        if user in makers:
            raise ForbiddenError(
                f"maker-checker: {user} submitted or edited this repair and cannot approve it",
                source=f"case {case.id}",
            )
        if body.changes and _norm([c.model_dump() for c in body.changes]) != _norm(current):
            raise ValidationError(
                "approve takes the repair as proposed; use decision=edit to change it", source="changes"
            )


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
        "outcome": outcome,
        "decided_at": decision.created_at.isoformat(),
    }
    session.add(LabelledCase(case_id=case.id, decision_id=decision.id, record=record))


def decide(
    session: Session,
    store: DocumentStore,
    runner_factory: Any,
    case_id: str,
    body: DecisionIn,
    *,
    user: str,
    role: str,
) -> Case:
    """Apply ``body`` to the case for ``user``/``role``; commits; returns the updated case."""
    case = get_case(session, case_id)
    current_prop = latest_proposal(session, case.id)
    current = list(current_prop.payload.get("changes", [])) if current_prop else []
    _check(case, body, user, role, current)
    # Lock the case row (write lock on SQLite) while still in review, so two concurrent decisions
    # cannot both pass the check above: the second one waits, then finds the status changed.
    locked = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == "pending_review")
        .values(updated_at=datetime.now(UTC))
    )
    if getattr(locked, "rowcount", 1) != 1:
        session.rollback()
        raise ConflictError("case was decided by someone else meanwhile", source=f"case {case.id}")
    session.refresh(case)
    if case.edited_by and body.decision == "approve" and user == case.edited_by:
        session.rollback()
        raise ForbiddenError(
            f"maker-checker: {user} edited this repair and cannot approve it", source=f"case {case.id}"
        )
    changes = [c.model_dump(exclude_none=True) for c in body.changes]
    decision = Decision(
        case_id=case.id, decision=body.decision, user=user, comment=body.comment, changes=changes
    )
    session.add(decision)
    session.flush()
    outcome: dict[str, Any]
    if body.decision == "edit":
        base = dict(current_prop.payload) if current_prop else {}
        base["changes"] = changes
        version = (
            session.scalar(select(func.max(Proposal.version)).where(Proposal.case_id == case.id)) or 0
        ) + 1
        session.add(Proposal(case_id=case.id, version=version, source="edit", author=user, payload=base))
        case.edited_by = user
        outcome = {"status": case.status, "proposal_version": version}
    else:
        # A re-triaged case waits on its own agent thread, maybe of another model.
        runner: TriageBackend = (
            get_runner(
                case.triage_model, session.get_bind().engine.url.render_as_string(False), config.data_dir()
            )
            if case.triage_model
            else runner_factory()
        )
        resume_input = {
            "decision": "edit" if (body.decision == "approve" and case.edited_by) else body.decision,
            "changes": current if body.decision == "approve" else changes,
            "comment": body.comment,
            "user": user,
        }
        result = runner.resume(case.triage_thread or case.id, resume_input)
        status = str(result.get("status") or ("approved" if body.decision == "approve" else "rejected"))
        case.status = status
        case.final_changes = result.get("final_changes")
        case.repaired_message = result.get("repaired_message")
        outcome = {"status": status, "final_changes": case.final_changes}
    event_data = {
        "decision": body.decision,
        "comment": body.comment,
        "changes": changes,
        "status": case.status,
        **{k: v for k in ("reason_code", "correct_action") if (v := getattr(body, k)) is not None},
    }
    append_event(session, event=f"decision_{body.decision}", actor=user, case_id=case.id, data=event_data)
    _label(session, store, case, decision, outcome)
    session.commit()
    metrics.DECISIONS.labels(decision=body.decision).inc()
    return case
