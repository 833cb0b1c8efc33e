"""Run one claimed triage job: extract the case's message and documents, call the agent, store the proposal.

Safe to run twice for the same case (a job re-claimed after a crash): the agent's ``start`` is
idempotent per thread id (the case id), and a case that already has a proposal is left alone.
A typed input error fails the case at once; anything else is retried until ``max_attempts``.

The proposal row carries the case's metered model usage (``proposals.model_usage``: LLM calls, tokens
and cost, from the runner's optional ``take_usage(thread_id)``, see :mod:`agents.runner`), which also
feeds the ``repairdesk_model_*`` Prometheus counters; a failed case records it in its audit event.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

from sqlalchemy import func, select

from app import metrics
from app.db.models import Case, CaseDocument, Document, Proposal
from app.db.session import Database
from app.jobs.queue import ClaimedJob, finish
from app.jobs.triage import TriageBackend, get_runner
from app.services.audit import append_event
from app.services.desk import message_payment, payment_columns
from app.services.document_store import DocumentStore
from tools import config
from tools.errors import RepairDeskError

log = logging.getLogger("repairdesk.jobs")


def _extract(data: bytes, source: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    from tools.extract import extract_bytes

    try:
        return [e.to_json_dict() for e in extract_bytes(data, source)], None
    except RepairDeskError as exc:
        return None, str(exc)
    except Exception as exc:  # an extractor bug must not lose the case: record it and go on
        log.exception("extraction failed", extra={"source": source})
        return None, f"{source}: extraction failed ({type(exc).__name__})"


def build_case_input(db: Database, store: DocumentStore, case: Case) -> dict[str, Any]:
    """The case as the agent expects it (CONTRACT "Exception case"), documents back in base64.

    Also fills the cached extractions of the documents and of the raw message (for the UI)."""
    payload = dict(case.payload)
    documents = []
    with db.session() as session:
        links = session.scalars(
            select(CaseDocument).where(CaseDocument.case_id == case.id).order_by(CaseDocument.position)
        ).all()
        for link in links:
            data = store.get(link.sha256)
            documents.append({"name": link.name, "content_base64": base64.b64encode(data).decode()})
            doc = session.get(Document, link.sha256)
            if doc is not None and doc.extraction is None and doc.extraction_error is None:
                doc.extraction, doc.extraction_error = _extract(data, link.name)
        row = session.get(Case, case.seq)
        if row is not None and row.message_extraction is None and payload.get("message"):
            extracted, error = _extract(str(payload["message"]).encode("utf-8"), "message")
            row.message_extraction = {"extractions": extracted} if extracted is not None else {"error": error}
            if row.amount is None and row.currency is None:  # the desk's queue columns, from the message
                for key, value in payment_columns(message_payment(row.message_extraction)).items():
                    setattr(row, key, value)
        session.commit()
    payload["documents"] = documents
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


def _store_proposal(
    db: Database,
    case_id: str,
    proposal: dict[str, Any],
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
            Proposal(
                case_id=case_id,
                version=version,
                source="agent",
                author="agent",
                payload=proposal,
                model_usage=usage,
            )
        )
        status = str(proposal.get("status") or "pending_review")
        case.status = (
            status
            if status in {"pending_review", "failed", "approved", "rejected", "applied"}
            else ("pending_review")
        )
        case.action = proposal.get("action")
        confidence = proposal.get("confidence")
        case.confidence = float(confidence) if isinstance(confidence, int | float) else None
        case.error = None
        guard = proposal.get("guard") or {}
        violations = guard.get("violations") or []
        append_event(
            session,
            event="proposed",
            actor=f"agent:{proposal.get('model', 'unknown')}",
            case_id=case_id,
            data={
                "action": case.action,
                "status": case.status,
                "changes": proposal.get("changes", []),
                "guard_passed": guard.get("passed"),
                "seconds": round(seconds, 3),
                **({"model_usage": _usage_summary(usage)} if usage else {}),
            },
        )
        session.commit()
    metrics.PROPOSALS.labels(action=str(proposal.get("action") or "none")).inc()
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
    runner: TriageBackend,
    job: ClaimedJob,
    *,
    worker_id: str,
    max_attempts: int,
) -> str:
    """Process ``job``; returns the job's final status (``done``, ``failed`` or ``queued`` for a retry)."""
    case = _mark_triaging(db, job.case_id, worker_id, job.attempts)
    if case is None:  # already decided or proposed (a re-run after a crash): nothing left to do
        _finish(db, job.id, "done")
        return "done"
    started = time.perf_counter()
    # A re-triage (app.services.case_actions) names a fresh agent thread and maybe another model.
    thread = case.triage_thread or case.id
    if case.triage_model:
        runner = get_runner(case.triage_model, db.url, config.data_dir())
    try:
        case_input = build_case_input(db, store, case)
        proposal = runner.start(case_input, thread)
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
    _finish(db, job.id, "done")
    log.info("proposal stored", extra={"case_id": case.id, "action": proposal.get("action")})
    return "done"


def _finish(db: Database, job_id: int, status: str, error: str | None = None) -> None:
    with db.session() as session:
        finish(session, job_id, status=status, error=error)
        session.commit()
