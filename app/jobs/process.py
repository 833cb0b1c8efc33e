"""Run one claimed triage job: extract the case's message and documents, call the agent, store the proposal.

Safe to run twice for the same case (a job re-claimed after a crash): the agent's ``start`` is
idempotent per thread id (the case id), and a case that already has a proposal is left alone.
A typed input error fails the case at once; anything else is retried until ``max_attempts``.

Attempts are counted when a job is claimed (:mod:`app.jobs.queue`, :mod:`app.jobs.job_claims`), so a
job that kills its worker (a runaway document, an out-of-memory kill) counts too: a claim past
``max_attempts`` is not run again but dead-lettered (:func:`dead_letter_poison`: job ``failed`` with
its reason, case ``failed`` with the same reason, on the in-process and the Celery back ends).

A ``decision`` job is the graph's continuation after an approve or reject
(:func:`app.services.decisions.apply_decision`).

The proposal row carries the case's metered model usage (``proposals.model_usage``: LLM calls, tokens
and cost, from the runner's optional ``take_usage(thread_id)``, see :mod:`agents.runner`), which also
feeds the ``repairdesk_model_*`` Prometheus counters; a failed case records it in its audit event.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select, update

from agents import contract
from app import metrics
from app.db.models import Case, CaseDocument, Decision, Document, Job, Proposal
from app.db.session import Database
from app.jobs.queue import ClaimedJob, finish
from app.jobs.triage import Runners, TriageBackend
from app.services.audit import append_event
from app.services.desk import message_payment, payment_columns
from app.services.document_store import DocumentStore
from app.services.stp import StpOptions
from tools.errors import RepairDeskError, ValidationError

log = logging.getLogger("repairdesk.jobs")


def _extract(data: bytes, source: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    """Extract in the document sandbox (time and memory limits): a hostile document fails alone."""
    from tools.documents.sandbox import extract_sandboxed

    try:
        return extract_sandboxed(data, source), None
    except RepairDeskError as exc:
        return None, str(exc)
    except Exception as exc:  # an extractor bug must not lose the case: record it and go on
        log.exception("extraction failed", extra={"source": source})
        return None, f"{source}: extraction failed ({type(exc).__name__})"


def build_case_input(db: Database, store: DocumentStore, case: Case) -> dict[str, Any]:
    """The case as the agent expects it (CONTRACT "Exception case"), documents back in base64.

    Extract once: each document's extraction is computed at most once (kept on its ``documents``
    row, shared by every case that holds the same bytes) and the payment parsed when the case was
    accepted (``cases.message_extraction``); both travel to the agent as ``case["intake"]``, so
    :func:`agents.nodes.intake.intake` reads nothing again and the UI shows the same results."""
    from agents.nodes.intake import read_payment

    payload = dict(case.payload)
    documents = []
    extractions: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    with db.session() as session:
        links = session.scalars(
            select(CaseDocument).where(CaseDocument.case_id == case.id).order_by(CaseDocument.position)
        ).all()
        for link in links:
            data = store.get(link.sha256)
            documents.append({"name": link.name, "content_base64": base64.b64encode(data).decode()})
            doc = session.get(Document, link.sha256)
            if doc is None:
                continue
            if doc.extraction is None and doc.extraction_error is None:
                doc.extraction, doc.extraction_error = _extract(data, link.name)
            if doc.extraction is not None:
                extractions.extend(doc.extraction)
            else:
                errors.append({"name": link.name, "reason": doc.extraction_error or "not readable"})
        row = session.get(Case, case.seq)
        parsed = row.message_extraction if row is not None else None
        if row is not None and not (isinstance(parsed, dict) and "payment" in parsed):
            # A case accepted before payments were parsed at acceptance: parse it now, once.
            try:
                payment, findings, kind = read_payment(payload, case.id, extractions)
                parsed = {"payment": payment, "findings": findings, "message_format": kind}
            except RepairDeskError as exc:
                parsed = {"error": str(exc)}
            row.message_extraction = parsed
        if row is not None and row.amount is None and row.currency is None:  # the desk's queue columns
            for key, value in payment_columns(message_payment(row.message_extraction)).items():
                setattr(row, key, value)
        session.commit()
    payload["documents"] = documents
    intake: dict[str, Any] = {"documents": extractions, "document_errors": errors}
    if isinstance(parsed, dict) and "payment" in parsed:
        intake.update(parsed)
    payload["intake"] = intake
    return payload


def take_usage(runner: TriageBackend, case_id: str) -> dict[str, Any] | None:
    """The case's model usage recorded by ``runner`` in this process (forgotten there), counted in the
    metrics; ``None`` for a runner or model without accounting. Never raises: accounting must not lose
    a proposal."""
    take = getattr(runner, "take_usage", None)
    if not callable(take):
        return None
    try:
        usage = take(case_id)
    except Exception:
        log.exception("could not read the model usage", extra={"case_id": case_id})
        return None
    if not isinstance(usage, dict):
        return None
    for model, figures in (usage.get("models") or {}).items():
        metrics.MODEL_CALLS.labels(model=model).inc(int(figures.get("calls", 0)))
        metrics.MODEL_TOKENS.labels(model=model, direction="input").inc(int(figures.get("input_tokens", 0)))
        metrics.MODEL_TOKENS.labels(model=model, direction="output").inc(int(figures.get("output_tokens", 0)))
        metrics.MODEL_COST.labels(model=model).inc(float(figures.get("cost_usd", 0)))
    return usage


def _usage_summary(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {key: usage.get(key) for key in ("calls", "input_tokens", "output_tokens", "cost_usd")}


def contract_proposal(proposal: Any) -> contract.Proposal:
    """A backend's proposal read through the contract: one that does not fit it fails the case,
    naming why, and is never stored for an analyst (a remote or custom backend is not trusted)."""
    try:
        return contract.Proposal.model_validate(proposal)
    except PydanticValidationError as exc:
        reason = f"the proposal does not fit the contract: {contract.error_text(exc)}"
        raise ValidationError(reason, source="proposal") from exc


def _store_proposal(
    db: Database,
    case_id: str,
    proposal: contract.Proposal,
    seconds: float,
    usage: dict[str, Any] | None = None,
) -> None:
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.id == case_id))
        if case is None or case.status not in {"queued", "triaging"}:
            return
        version = (
            session.scalar(select(func.max(Proposal.version)).where(Proposal.case_id == case_id)) or 0
        ) + 1
        session.add(
            # Keyword arguments: alike in shape to other calls (the tests), not shared logic.
            Proposal(
                case_id=case_id,
                version=version,
                source="agent",
                author="agent",
                payload=proposal.dump(),
                model_usage=usage,
            )
        )
        case.status = proposal.status
        case.action = proposal.action
        case.confidence = proposal.confidence
        case.error = None
        violations = proposal.guard.violations if proposal.guard else []
        append_event(
            session,
            event="proposed",
            actor=f"agent:{proposal.model}",
            case_id=case_id,
            data={
                "action": case.action,
                "status": case.status,
                "changes": [c.dump() for c in proposal.changes],
                "guard_passed": proposal.guard.passed if proposal.guard else None,
                "seconds": round(seconds, 3),
                **({"model_usage": _usage_summary(usage)} if usage else {}),
            },
        )
        session.commit()
    metrics.PROPOSALS.labels(action=proposal.action).inc()
    metrics.GUARD_VIOLATIONS.inc(len(violations))
    metrics.TRIAGE_LATENCY.observe(seconds)


def _fail_case(db: Database, case_id: str, reason: str, usage: dict[str, Any] | None = None) -> None:
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.id == case_id))
        if case is None or case.status not in {"queued", "triaging"}:
            return
        case.status = "failed"
        case.error = reason
        data: dict[str, Any] = {"reason": reason}
        if usage:  # what the failed attempts cost: there is no proposal to carry it
            data["model_usage"] = _usage_summary(usage)
        append_event(session, event="triage_failed", actor="worker", case_id=case_id, data=data)
        session.commit()


def _mark_triaging(db: Database, case_id: str, worker_id: str, attempt: int) -> Case | None:
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.id == case_id))
        if case is None or case.status not in {"queued", "triaging"}:
            return None
        if case.status == "queued":
            case.status = "triaging"
            append_event(
                session, event="triage_started", actor="worker", case_id=case_id, data={"attempt": attempt}
            )
        session.commit()
        return case


def run_job(
    db: Database,
    store: DocumentStore,
    runners: Runners,
    job: ClaimedJob,
    *,
    worker_id: str,
    max_attempts: int,
    stp: StpOptions | None = None,
) -> str:
    """Process ``job``; returns the job's final status (``done``, ``failed`` or ``queued`` for a retry,
    ``dead`` for a job past its attempts, now dead-lettered). ``runners`` gives the case's backend. With
    ``stp`` enabled, a stored proposal the straight-through rule allows is applied at once
    (:func:`app.services.stp_apply.auto_apply`)."""
    with db.session() as session:
        kind, last_error = session.execute(select(Job.kind, Job.last_error).where(Job.id == job.id)).one()
    if job.attempts > max_attempts:
        dead_letter_poison(db, job, kind, max_attempts, last_error)
        return "dead"
    if kind == "decision":
        from app.services.decisions import apply_decision

        try:
            apply_decision(db, store, runners, job.case_id, job.id)
        except Exception as exc:  # a database error: retried (counted) until the limit
            log.exception("decision continuation failed", extra={"case_id": job.case_id})
            _finish(db, job.id, "queued", f"continuation raised {type(exc).__name__}: {exc}"[:2000])
            return "queued"
        return "done"
    case = _mark_triaging(db, job.case_id, worker_id, job.attempts)
    if case is None:  # already decided or proposed (a re-run after a crash): nothing left to do
        _finish(db, job.id, "done")
        return "done"
    started = time.perf_counter()
    # A re-triage (app.services.case_actions) names a fresh agent thread and maybe another model.
    thread = case.triage_thread or case.id
    runner = runners.get(case.triage_model)
    try:
        case_input = build_case_input(db, store, case)
        proposal = contract_proposal(runner.start(case_input, thread))
    except RepairDeskError as exc:
        _fail_case(db, case.id, str(exc), take_usage(runner, thread))
        _finish(db, job.id, "failed", str(exc))
        metrics.JOB_FAILURES.labels(kind="input").inc()
        return "failed"
    except Exception as exc:
        log.exception("triage failed", extra={"case_id": case.id, "attempt": job.attempts})
        metrics.JOB_FAILURES.labels(kind="error").inc()
        reason = f"triage raised {type(exc).__name__}: {exc}"[:2000]
        if job.attempts >= max_attempts:
            _fail_case(db, case.id, reason, take_usage(runner, thread))
            _finish(db, job.id, "failed", reason)
            return "failed"
        # The usage so far stays in this process's ledger: a retry here adds to it and stores the total.
        _finish(db, job.id, "queued", reason)
        return "queued"
    _store_proposal(db, case.id, proposal, time.perf_counter() - started, take_usage(runner, thread))
    if stp is not None and stp.enabled:  # before the job is done: a finished job means STP has spoken
        _straight_through(db, store, runners, case.id, stp)
    _finish(db, job.id, "done")
    log.info("proposal stored", extra={"case_id": case.id, "action": proposal.action})
    return "done"


def _straight_through(
    db: Database, store: DocumentStore, runners: Runners, case_id: str, stp: StpOptions
) -> None:
    """Auto-apply when allowed; a failure here leaves the case in review for people (never lost)."""
    from app.services.stp_apply import auto_apply

    try:
        auto_apply(db, store, runners, case_id, stp)
    except Exception:
        log.exception("straight-through check failed; the case stays in review", extra={"case_id": case_id})


def _finish(db: Database, job_id: int, status: str, error: str | None = None) -> None:
    with db.session() as session:
        finish(session, job_id, status=status, error=error)
        session.commit()


def poison_reason(kind: str, attempts: int, max_attempts: int, last_error: str | None) -> str:
    why = f"last error: {last_error}" if last_error else "its worker stopped each time without an error"
    return f"{kind} job claimed {attempts} times, over the limit of {max_attempts}; {why}"[:2000]


def dead_letter_poison(
    db: Database, job: ClaimedJob, kind: str, max_attempts: int, last_error: str | None
) -> str:
    """Fail a job claimed past its attempts, and its case, with the reason (see the module docstring)."""
    reason = poison_reason(kind, job.attempts, max_attempts, last_error)
    log.error("job dead-lettered", extra={"case_id": job.case_id, "job_id": job.id, "reason": reason})
    metrics.JOB_FAILURES.labels(kind="poison").inc()
    with db.session() as session:
        finish(session, job.id, status="failed", error=f"dead-lettered: {reason}"[:2000])
        if kind == "decision":
            session.execute(
                update(Decision)
                .where(Decision.case_id == job.case_id, Decision.state == "pending")
                .values(state="failed")
            )
            case = session.scalar(select(Case).where(Case.id == job.case_id))
            if case is not None and case.status == "pending_review":
                case.status, case.error = "failed", reason
                append_event(
                    session,
                    event="decision_failed",
                    actor="worker",
                    case_id=job.case_id,
                    data={"status": "failed", "reason": reason, "job_id": job.id},
                )
        session.commit()
    if kind != "decision":
        _fail_case(db, job.case_id, reason)
    return reason
