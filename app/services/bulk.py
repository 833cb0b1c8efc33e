"""Bulk approve: an approver approves the straight-through eligible cases among those selected.

Each case is checked against the STP policy in force (:func:`app.services.desk.stp_check`, the rule
auto-apply uses) and then approved
through the ordinary decision path, so maker-checker, the audit event and the labelled case apply
per case exactly as for a single approval. One case's refusal does not stop the others.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.api.schemas import DecisionIn
from app.services.cases import get_case, latest_proposal
from app.services.decisions import decide
from app.services.desk import stp_check
from app.services.stp import in_force
from tools.errors import RepairDeskError


def bulk_approve(
    session: Session,
    services: Any,
    case_ids: list[str],
    *,
    comment: str,
    user: str,
    role: str,
) -> list[dict[str, Any]]:
    """Per case ``{"case_id", "approved", "status", "reason"}``, in the order given (duplicates once)."""
    results = []
    policy, kill_switch = in_force(session)  # one policy for the whole batch
    for case_id in dict.fromkeys(case_ids):
        try:
            case = get_case(session, case_id)
            proposal = latest_proposal(session, case.id)
            check = stp_check(
                status=case.status,
                amount=case.amount,
                currency=case.currency,
                proposal=proposal.payload if proposal else None,
                source=proposal.source if proposal else None,
                policy=policy,
                kill_switch=kill_switch,
                settings=services.settings,
            )
            if not check.eligible:
                results.append(
                    {"case_id": case_id, "approved": False, "status": case.status, "reason": check.reason}
                )
                continue
            body = DecisionIn(
                decision="approve", comment=comment or "bulk approve: straight-through eligible"
            )
            updated = decide(session, services.store, services.runners, case.id, body, user=user, role=role)
            results.append(
                {"case_id": case_id, "approved": True, "status": updated.status, "reason": check.reason}
            )
        except RepairDeskError as exc:
            session.rollback()
            results.append({"case_id": case_id, "approved": False, "status": None, "reason": exc.reason})
    return results
