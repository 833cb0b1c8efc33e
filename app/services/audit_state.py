"""Check the stored state against the audit events: the events are the record, the rows must agree.

:func:`verify_state` walks each case's events (in chain order) and derives what its rows must say:
its status, its final changes, its proposals (agent proposals from ``proposed``, edits from
``decision_edit``) and its decisions (each ``decisions`` row has its ``decision_*`` event with the
same user, kind, changes and reason; an applied approve or reject has its ``decision_applied``).
It names the first disagreement, e.g. ``case EXC-1: cases.status is 'applied', the events say
'rejected'``. With a keyed chain (:mod:`app.services.audit`) the events cannot be rewritten to
match a changed row, so changing ``cases.final_changes`` or ``decisions.user`` is detected.

Decisions written before revision ``0003_crashsafe`` carry their final status in the decision event
itself and have no ``decision_applied``; they are checked that way.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, Case, Decision, Proposal

STATUS_OF = {"case_created": "queued", "triage_started": "triaging", "triage_failed": "failed"}
STATUS_OF |= {"triage_requeued": "queued", "decision_edit": "pending_review"}
STATUS_OF |= {"decision_failed": "failed", "decision_lost": "failed"}
# one event per decisions row; decision_qa: a person's QA verdict on a straight-through case
DECISION_EVENTS = {"decision_approve", "decision_reject", "decision_edit", "decision_qa"}


@dataclass(frozen=True)
class StateReport:
    checked_cases: int
    disagreement: str | None = None

    @property
    def ok(self) -> bool:
        return self.disagreement is None


def _j(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def _pairs(changes: Any) -> list[tuple[str, str]]:
    return sorted((str(c.get("field")), str(c.get("new"))) for c in changes or [] if isinstance(c, dict))


def _expected_status(events: list[AuditEvent]) -> str | None:
    status = None
    for ev in events:
        data = ev.data or {}
        if ev.event in STATUS_OF:
            status = STATUS_OF[ev.event]
        elif ev.event in {"proposed", "decision_applied"}:
            status = data.get("status", status)
        elif ev.event in {"decision_approve", "decision_reject"} and "decision_id" not in data:
            status = data.get("status", status)  # a decision recorded before 0003: its outcome inline
    return status


def _check_case(
    case: Case, events: list[AuditEvent], proposals: list[Proposal], decisions: list[Decision]
) -> str | None:
    where = f"case {case.id}"
    if not events:
        return f"{where}: no audit events"
    expected = _expected_status(events)
    if expected != case.status:
        return f"{where}: cases.status is {case.status!r}, the events say {expected!r}"
    applied = [e for e in events if e.event == "decision_applied"]
    if applied and _j(applied[-1].data.get("final_changes")) != _j(case.final_changes):
        return f"{where}: cases.final_changes differ from the decision_applied event (seq {applied[-1].seq})"
    proposed = [e for e in events if e.event == "proposed"]
    agent = [p for p in proposals if p.source == "agent"]
    if len(proposed) != len(agent):
        return f"{where}: {len(agent)} agent proposals stored, {len(proposed)} proposed events"
    for ev, proposal in zip(proposed, agent, strict=True):
        if _pairs(ev.data.get("changes")) != _pairs(proposal.payload.get("changes")):
            return (
                f"{where}: proposal version {proposal.version} differs from its proposed event (seq {ev.seq})"
            )
    edits = [e for e in events if e.event == "decision_edit"]
    edited = [p for p in proposals if p.source == "edit"]
    if len(edits) != len(edited):
        return f"{where}: {len(edited)} edited proposals stored, {len(edits)} decision_edit events"
    for ev, proposal in zip(edits, edited, strict=True):
        if ev.actor != proposal.author or _pairs(ev.data.get("changes")) != _pairs(
            proposal.payload.get("changes")
        ):
            return (
                f"{where}: edited proposal version {proposal.version} differs from its event (seq {ev.seq})"
            )
    decided = [e for e in events if e.event in DECISION_EVENTS]
    if len(decided) != len(decisions):
        return f"{where}: {len(decisions)} decisions stored, {len(decided)} decision events"
    for ev, decision in zip(decided, decisions, strict=True):
        data = ev.data or {}
        if data.get("decision_id") not in (None, decision.id):
            return f"{where}: decision {decision.id} has no event of its own (seq {ev.seq} names another)"
        if ev.event != f"decision_{decision.decision}" or ev.actor != decision.user:
            return (
                f"{where}: decision {decision.id} ({decision.decision} by {decision.user}) differs from its "
                f"event (seq {ev.seq}: {ev.event} by {ev.actor})"
            )
        if _pairs(data.get("changes")) != _pairs(decision.changes):
            return f"{where}: decision {decision.id}'s changes differ from its event (seq {ev.seq})"
        if (data.get("reason_code"), data.get("correct_action")) != (
            decision.reason_code,
            decision.correct_action,
        ):
            return f"{where}: decision {decision.id}'s reason differs from its event (seq {ev.seq})"
        outcome = [e for e in applied if e.data.get("decision_id") == decision.id]
        if decision.resume_input is not None:
            if decision.state == "applied" and len(outcome) != 1:
                count = len(outcome)
                return f"{where}: decision {decision.id} is applied but has {count} decision_applied events"
            if decision.state == "pending" and outcome:
                return f"{where}: decision {decision.id} is pending but has a decision_applied event"
    return None


def verify_state(session: Session) -> StateReport:
    """See the module docstring; read in one transaction (a snapshot on SQLite's WAL)."""
    events: dict[str, list[AuditEvent]] = defaultdict(list)
    for ev in session.scalars(
        select(AuditEvent).where(AuditEvent.case_id.is_not(None)).order_by(AuditEvent.seq)
    ):
        events[str(ev.case_id)].append(ev)
    proposals: dict[str, list[Proposal]] = defaultdict(list)
    for proposal in session.scalars(select(Proposal).order_by(Proposal.case_id, Proposal.version)):
        proposals[proposal.case_id].append(proposal)
    decisions: dict[str, list[Decision]] = defaultdict(list)
    for decision in session.scalars(select(Decision).order_by(Decision.id)):
        decisions[decision.case_id].append(decision)
    checked = 0
    seen: set[str] = set()
    for case in session.scalars(select(Case).order_by(Case.seq)):
        seen.add(case.id)
        problem = _check_case(
            case, events.get(case.id, []), proposals.get(case.id, []), decisions.get(case.id, [])
        )
        if problem is not None:
            return StateReport(checked, problem)
        checked += 1
    orphans = sorted(set(events) - seen)
    if orphans:
        return StateReport(
            checked, f"case {orphans[0]}: audit events for a case that is not stored (deleted?)"
        )
    return StateReport(checked)
