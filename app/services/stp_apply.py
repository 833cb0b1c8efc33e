"""Auto-apply after triage, and the human QA of auto-applied cases.

:func:`auto_apply` runs right after a worker stored a proposal (the in-process pool behind the API and
the Celery workers both run :func:`app.jobs.process.run_job`). It asks the one rule
(:func:`app.services.stp.verdict`) and, when the proposal is eligible, takes the same crash-safe path
as an approver's approval (:mod:`app.services.decisions`): one transaction locks the case in review,
re-reads the kill switch under a share lock, writes the decision *intent* (``approve`` by
``system:stp``, ``state = pending``), its ``decision_approve`` audit event (with the policy version,
threshold, bound and confidence), the ``stp_applications`` row and the ``decision`` job, and commits;
the job (the graph's continuation) then runs here at once, or after a crash in recovery or any worker.
A proposal that is not eligible gets a ``stp_declined`` audit event naming the reason.

A share of the applied cases (``REPAIRDESK_STP_QA_SHARE``, chosen by a hash of the case id, so the
choice is reproducible) is flagged ``qa_status = pending``: the queue shows them, and an analyst or
approver records a QA verdict (:func:`qa_review`). The verdict is a ``qa`` decision (audit event
``decision_qa``) in the case's decision record; a disagreement names the correct action and becomes
the case's gold label (:mod:`app.services.corrections`).
"""

from __future__ import annotations

import hashlib
import logging
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import metrics
from app.db.models import Case, Decision, StpApplication
from app.db.session import Database
from app.errors import ConflictError, ForbiddenError
from app.jobs.job_claims import active_job_id
from app.jobs.queue import enqueue
from app.jobs.triage import Runners
from app.services import stp
from app.services.audit import append_event
from app.services.cases import get_case, latest_proposal
from app.services.corrections import QA_DECISION
from app.services.decisions import DECISION_JOB, _lock, run_decision_job
from app.services.document_store import DocumentStore
from tools.errors import RepairDeskError, ValidationError

log = logging.getLogger("repairdesk.stp")

QA_ROLES = frozenset({"analyst", "approver"})
QA_VERDICTS = ("agree", "disagree")


def qa_sampled(case_id: str, share: float) -> bool:
    """Whether ``case_id`` falls in the QA sample: a hash of the id, uniform in [0, 1), under ``share``."""
    point = int(hashlib.sha256(case_id.encode()).hexdigest()[:13], 16) / float(16**13)
    return point < share


def _decline(session: Session, case_id: str, reason: str, policy_version: int | None) -> None:
    metrics.STP.labels(outcome="declined").inc()
    append_event(
        session,
        event="stp_declined",
        actor=stp.SYSTEM_MAKER,
        case_id=case_id,
        data={"reason": reason, "policy_version": policy_version},
    )
    session.commit()


def auto_apply(
    db: Database, store: DocumentStore, runners: Runners, case_id: str, options: stp.StpOptions
) -> bool:
    """Apply the case's fresh agent proposal without a human decision when the rule allows; returns
    whether it was applied (its intent committed). Never raises for a case it leaves to people."""
    if not options.enabled:
        return False
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.id == case_id))
        proposal = latest_proposal(session, case_id)
        if case is None or case.status != "pending_review" or proposal is None or proposal.source != "agent":
            return False
        policy = stp.active_policy(session)
        version = policy.version if policy else None
        rule = partial(
            stp.verdict,
            proposal.payload,
            amount=case.amount,
            currency=case.currency,
            policy=policy.policy if policy else None,
            options=options,
        )
        first = rule(kill_switch=stp.control(session).kill_switch)
        if not first.eligible:
            _decline(session, case_id, first.reason, version)
            return False
        try:
            _lock(session, case)  # the case row, in review, with no decision being applied
        except ConflictError:
            return False  # a person decided first: theirs stands
        current = latest_proposal(session, case_id)
        if current is None or current.version != proposal.version:
            session.rollback()
            return False  # edited meanwhile: the edit is a person's content now
        checked = rule(kill_switch=stp.control(session, lock=True).kill_switch)  # as of this transaction
        if not checked.eligible or checked.rule is None:
            session.rollback()
            _decline(session, case_id, checked.reason, version)
            return False
        job_id = _record_intent(session, case, current.version, proposal.payload, checked, version, options)
    metrics.STP.labels(outcome="applied").inc()
    try:
        run_decision_job(db, store, runners, case_id, job_id)
    except RepairDeskError:  # the intent is committed: recovery or a worker applies it
        log.warning("straight-through decision queued for a retry", extra={"case_id": case_id})
    return True


def _record_intent(
    session: Session,
    case: Case,
    version: int,
    payload: dict[str, Any],
    checked: stp.Verdict,
    policy_version: int | None,
    options: stp.StpOptions,
) -> int:
    rule = checked.rule or {}
    comment = f"straight-through under STP policy v{policy_version}: {checked.reason}"
    changes = list(payload.get("changes") or [])
    decision = Decision(
        case_id=case.id,
        decision="approve",
        user=stp.SYSTEM_MAKER,
        comment=comment,
        changes=[],
        proposal_version=version,
        state="pending",
        resume_input={
            "decision": "approve",
            "changes": changes,
            "comment": comment,
            "user": stp.SYSTEM_MAKER,
        },
    )
    session.add(decision)
    enqueue(session, case.id, kind=DECISION_JOB)
    session.flush()
    sampled = qa_sampled(case.id, options.qa_share)
    session.add(
        StpApplication(
            case_id=case.id,
            decision_id=decision.id,
            policy_version=policy_version or 0,
            exception_code=str(payload.get("exception_code") or case.exception_code),
            action=str(payload.get("action")),
            confidence=float(payload["confidence"]),
            threshold=float(rule["threshold"]),
            upper_bound=float(rule["upper_bound"]),
            qa_sampled=sampled,
        )
    )
    case.straight_through = True
    case.qa_status = "pending" if sampled else None
    append_event(
        session,
        event="decision_approve",
        actor=stp.SYSTEM_MAKER,
        case_id=case.id,
        data={
            "decision": "approve",
            "comment": comment,
            "changes": [],
            "proposal_version": version,
            "decision_id": decision.id,
            "straight_through": True,
            "policy_version": policy_version,
            "confidence": payload.get("confidence"),
            "threshold": rule.get("threshold"),
            "upper_bound": rule.get("upper_bound"),
            "qa_sampled": sampled,
        },
    )
    job_id = active_job_id(session, case.id, kind=DECISION_JOB)
    session.commit()
    assert job_id is not None
    return job_id


def application(session: Session, case_id: str) -> StpApplication | None:
    return session.scalar(select(StpApplication).where(StpApplication.case_id == case_id))


def qa_review(
    session: Session,
    case_id: str,
    *,
    verdict: str,
    user: str,
    role: str,
    comment: str = "",
    reason_code: str | None = None,
    correct_action: str | None = None,
) -> Case:
    """Record a person's QA verdict on an auto-applied case (analyst or approver; once); commits.

    ``disagree`` needs the ``correct_action``: it becomes the case's gold label."""
    if role not in QA_ROLES:
        raise ForbiddenError(
            f"QA needs the analyst or approver role; you are {role}", source=f"case {case_id}"
        )
    if verdict not in QA_VERDICTS:
        raise ValidationError(f"verdict must be one of {', '.join(QA_VERDICTS)}", source="verdict")
    if verdict == "disagree" and not correct_action:
        raise ValidationError("a disagreement names the correct action", source="correct_action")
    case = get_case(session, case_id)
    if not case.straight_through:
        raise ConflictError("only straight-through cases take a QA verdict", source=f"case {case_id}")
    if case.qa_status in {"agreed", "disagreed"}:
        raise ConflictError(f"QA already recorded ({case.qa_status})", source=f"case {case_id}")
    sampled = case.qa_status == "pending"
    decision = Decision(
        case_id=case.id,
        decision=QA_DECISION,
        user=user,
        comment=comment,
        changes=[],
        state="applied",
        # a disagreement is the one QA decision that names a correct action
        reason_code=reason_code if verdict == "disagree" else None,
        correct_action=correct_action if verdict == "disagree" else None,
    )
    session.add(decision)
    session.flush()
    case.qa_status = "agreed" if verdict == "agree" else "disagreed"
    append_event(
        session,
        event=f"decision_{QA_DECISION}",  # one event per decisions row (app.services.audit_state)
        actor=user,
        case_id=case.id,
        data={
            "decision": QA_DECISION,
            "verdict": verdict,
            "decision_id": decision.id,
            "changes": [],
            "reason_code": decision.reason_code,
            "correct_action": decision.correct_action,
            "comment": comment,
            "sampled": sampled,
        },
    )
    session.commit()
    return case
