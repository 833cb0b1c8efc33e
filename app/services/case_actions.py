"""Desk actions on a case besides decisions: assign, retry, re-triage, hand off to manual handling.

Each checks the caller's role and the case's state, writes one audit event in the same transaction
as the change, and commits. A retry continues the failed triage from its checkpoint; a re-triage
starts a fresh agent thread (``<case id>#r<n>``), optionally with another model spec, so the case
gets a new proposal; a hand-off takes the case out of the automated flow (status ``manual``).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, Case
from app.errors import ConflictError, ForbiddenError
from app.jobs.queue import enqueue
from app.services.audit import append_event
from app.services.cases import get_case
from tools.errors import ValidationError

DESK_ROLES = frozenset({"analyst", "approver"})
RETRIABLE = frozenset({"failed"})
RETRIAGEABLE = frozenset({"failed", "pending_review", "manual"})
HANDOFF_FROM = frozenset({"failed", "pending_review"})
# A model spec as the CLI and settings take it: provider:name, letters, digits and ./_:-
MODEL_SPEC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,199}$")


def _role(role: str, allowed: frozenset[str], action: str, case_id: str) -> None:
    if role not in allowed:
        raise ForbiddenError(
            f"{action} needs the {' or '.join(sorted(allowed))} role; you are {role}",
            source=f"case {case_id}",
        )


def _state(case: Case, allowed: frozenset[str], action: str) -> None:
    if case.status not in allowed:
        raise ConflictError(
            f"cannot {action} a case that is {case.status} (only {', '.join(sorted(allowed))})",
            source=f"case {case.id}",
        )


def assign(session: Session, case_id: str, assignee: str | None, *, user: str, role: str) -> Case:
    """Assign the case to ``assignee`` (``None``: unassign). Analysts may only take or drop their own."""
    _role(role, DESK_ROLES, "assigning", case_id)
    case = get_case(session, case_id)
    if role != "approver" and assignee not in {user, None}:
        raise ForbiddenError("an analyst can assign a case only to themselves", source=f"case {case_id}")
    if role != "approver" and assignee is None and case.assignee not in {user, None}:
        raise ForbiddenError(f"the case is assigned to {case.assignee}", source=f"case {case_id}")
    previous = case.assignee
    case.assignee = assignee
    append_event(
        session,
        event="assigned",
        actor=user,
        case_id=case.id,
        data={"assignee": assignee, "previous": previous},
    )
    session.commit()
    return case


def retry(session: Session, case_id: str, *, user: str, role: str, comment: str = "") -> Case:
    """Queue the failed triage again; the agent continues from its last checkpoint."""
    _role(role, DESK_ROLES, "retry", case_id)
    case = get_case(session, case_id)
    _state(case, RETRIABLE, "retry")
    reason = case.error
    case.status, case.error = "queued", None
    enqueue(session, case.id)
    append_event(
        session,
        event="retry_requested",
        actor=user,
        case_id=case.id,
        data={"status": "queued", "previous_error": reason, "comment": comment},
    )
    session.commit()
    return case


def retriage(
    session: Session, case_id: str, *, user: str, role: str, model: str | None = None, comment: str = ""
) -> Case:
    """Triage the case afresh on a new agent thread, with ``model`` (a spec) or the service's model."""
    _role(role, DESK_ROLES, "re-triage", case_id)
    if model is not None and not MODEL_SPEC.match(model):
        raise ValidationError(f"not a model spec: {model!r}", source="model")
    case = get_case(session, case_id)
    _state(case, RETRIAGEABLE, "re-triage")
    runs = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.case_id == case.id, AuditEvent.event == "retriage_requested")
    )
    previous = case.status
    case.triage_thread = f"{case.id}#r{int(runs or 0) + 1}"
    case.triage_model = model
    case.status, case.error = "queued", None
    enqueue(session, case.id)
    data: dict[str, Any] = {"status": "queued", "previous_status": previous, "thread": case.triage_thread}
    append_event(
        session,
        event="retriage_requested",
        actor=user,
        case_id=case.id,
        data=data | {"model": model, "comment": comment},
    )
    session.commit()
    return case


def hand_off(session: Session, case_id: str, *, user: str, role: str, comment: str) -> Case:
    """Take the case out of the automated flow: a person repairs it outside RepairDesk."""
    _role(role, DESK_ROLES, "hand-off", case_id)
    if not comment.strip():
        raise ValidationError("say why the case goes to manual handling", source="comment")
    case = get_case(session, case_id)
    _state(case, HANDOFF_FROM, "hand off")
    previous = case.status
    case.status = "manual"
    case.assignee = case.assignee or user
    append_event(
        session,
        event="handed_off",
        actor=user,
        case_id=case.id,
        data={"status": "manual", "previous_status": previous, "comment": comment, "reason": case.error},
    )
    session.commit()
    return case
