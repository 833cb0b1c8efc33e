"""Cases: creation with idempotency, the queue page, and the case view (the contract's proposal shape).

``create_case`` stores the documents once by hash, the case, its triage job and an audit event in
one transaction. A retried POST with the same ``Idempotency-Key`` (or the same client ``case_id``)
and the same body returns the existing case; the same key with a different body is a 409.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.schemas import ExceptionIn
from app.db.models import Case, CaseDocument, Decision, Document, Proposal
from app.errors import ConflictError
from app.jobs.queue import enqueue
from app.services.audit import append_event
from app.services.document_store import DocumentStore
from tools.errors import NotFoundError, ValidationError

PRE_PROPOSAL = ("queued", "triaging")
STATUSES = ("queued", "triaging", "pending_review", "approved", "rejected", "applied", "failed")
PROPOSAL_KEYS = (
    "exception_code",
    "classification_confidence",
    "action",
    "changes",
    "rationale",
    "citations",
    "tool_calls",
    "confidence",
    "guard",
    "model",
)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def request_hash(body: ExceptionIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _existing(session: Session, key: str | None, case_id: str | None) -> Case | None:
    if key:
        found = session.scalar(select(Case).where(Case.idempotency_key == key))
        if found is not None:
            return found
    if case_id:
        return session.scalar(select(Case).where(Case.id == case_id))
    return None


def _check_replay(case: Case, digest: str, key: str | None) -> Case:
    if case.request_hash != digest:
        what = f"Idempotency-Key {key!r}" if key and case.idempotency_key == key else f"case_id {case.id!r}"
        raise ConflictError(f"{what} was already used with a different request body", source=case.id)
    return case


def _sniff(data: bytes) -> str:
    from tools.extract import sniff

    return sniff(data)


@dataclass
class Created:
    case: Case
    created: bool


def create_case(
    session: Session, store: DocumentStore, body: ExceptionIn, *, user: str, idempotency_key: str | None
) -> Created:
    """Create (or find, for a retry) the case and queue its triage; commits."""
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
        raise ValidationError("must be 1-200 characters", source="Idempotency-Key")
    digest = request_hash(body)
    found = _existing(session, idempotency_key, body.case_id)
    if found is not None:
        return Created(_check_replay(found, digest, idempotency_key), created=False)

    case_id = body.case_id or f"EXC-{uuid.uuid4().hex[:12].upper()}"
    payload = body.model_dump(mode="json", exclude={"documents"}, exclude_none=True)
    payload["case_id"] = case_id
    doc_refs = []
    for position, doc in enumerate(body.documents):
        data = doc.content()
        sha = store.put(data)
        if session.get(Document, sha) is None:
            session.add(Document(sha256=sha, size=len(data), kind=_sniff(data)))
        doc_refs.append({"name": doc.name, "sha256": sha, "position": position})
    payload["documents"] = [{"name": d["name"], "sha256": d["sha256"]} for d in doc_refs]
    case = Case(
        id=case_id,
        exception_code=body.exception_code,
        status="queued",
        customer_id=body.customer_id,
        payload=payload,
        request_hash=digest,
        idempotency_key=idempotency_key,
        created_by=user,
    )
    session.add(case)
    session.flush()
    for ref in doc_refs:
        session.add(
            CaseDocument(case_id=case_id, position=ref["position"], name=ref["name"], sha256=ref["sha256"])
        )
    enqueue(session, case_id)
    append_event(
        session,
        event="case_created",
        actor=user,
        case_id=case_id,
        data={"exception_code": body.exception_code, "documents": len(doc_refs), "status": "queued"},
    )
    try:
        session.commit()
    except IntegrityError:
        # A concurrent retry with the same key or case id won the race: answer with its case.
        session.rollback()
        found = _existing(session, idempotency_key, body.case_id)
        if found is None:
            raise
        return Created(_check_replay(found, digest, idempotency_key), created=False)
    return Created(case, created=True)


def get_case(session: Session, case_id: str) -> Case:
    case = session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        raise NotFoundError("no such case", source=f"case {case_id}")
    return case


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = text.split(":", 1)
        if kind != "s":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("not a cursor returned by this API", source="cursor") from exc


QUEUE_COLUMNS = (
    Case.seq,
    Case.id,
    Case.status,
    Case.exception_code,
    Case.action,
    Case.confidence,
    Case.customer_id,
    Case.created_at,
    Case.updated_at,
)


def list_cases(
    session: Session,
    *,
    status: str | None = None,
    code: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Any], str | None]:
    """One page of the queue, oldest first (FIFO), with an opaque cursor for the next page.

    Rows carry only the queue columns (no payloads): the queue is the hot read path."""
    query = select(*QUEUE_COLUMNS).order_by(Case.seq).limit(limit + 1)
    if status:
        query = query.where(Case.status == status)
    if code:
        query = query.where(Case.exception_code == code.upper())
    if cursor:
        query = query.where(Case.seq > decode_cursor(cursor))
    rows = list(session.execute(query).all())
    next_cursor = encode_cursor(rows[limit - 1].seq) if len(rows) > limit else None
    return rows[:limit], next_cursor


def queue_item(case: Any, at: datetime | None = None) -> dict[str, Any]:
    """A queue entry from a :class:`Case` or a row of ``QUEUE_COLUMNS``."""
    created = as_utc(case.created_at)
    return {
        "case_id": case.id,
        "status": case.status,
        "exception_code": case.exception_code,
        "action": case.action,
        "confidence": case.confidence,
        "customer_id": case.customer_id,
        "created_at": created.isoformat(),
        "updated_at": as_utc(case.updated_at).isoformat(),
        "age_seconds": round(((at or datetime.now(UTC)) - created).total_seconds(), 3),
    }


def latest_proposal(session: Session, case_id: str, source: str | None = None) -> Proposal | None:
    query = select(Proposal).where(Proposal.case_id == case_id)
    if source:
        query = query.where(Proposal.source == source)
    return session.scalar(query.order_by(Proposal.version.desc()).limit(1))


def case_view(session: Session, case: Case) -> dict[str, Any]:
    """The contract's repair proposal for the case, plus its documents, decisions and history fields."""
    view: dict[str, Any] = {"case_id": case.id, "status": case.status, "exception_code": case.exception_code}
    proposal = latest_proposal(session, case.id)
    if proposal is not None:
        for key in PROPOSAL_KEYS:
            if key in proposal.payload:
                view[key] = proposal.payload[key]
        view["exception_code"] = proposal.payload.get("exception_code") or case.exception_code
        view["proposal_version"] = proposal.version
        view["proposal_source"] = proposal.source
    if case.final_changes is not None:
        view["final_changes"] = case.final_changes
    if case.repaired_message:
        view["repaired_message"] = case.repaired_message
    if case.error:
        view["error"] = case.error
    view["customer_id"] = case.customer_id
    view["submitted_by"] = case.created_by
    view["edited_by"] = case.edited_by
    view["created_at"] = as_utc(case.created_at).isoformat()
    view["updated_at"] = as_utc(case.updated_at).isoformat()
    docs = session.scalars(
        select(CaseDocument).where(CaseDocument.case_id == case.id).order_by(CaseDocument.position)
    )
    view["documents"] = [{"name": d.name, "sha256": d.sha256, "position": d.position} for d in docs]
    decisions = session.scalars(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id))
    view["decisions"] = [
        {
            "decision": d.decision,
            "user": d.user,
            "comment": d.comment,
            "changes": d.changes,
            "created_at": as_utc(d.created_at).isoformat(),
        }
        for d in decisions
    ]
    return {k: v for k, v in view.items() if v is not None}
