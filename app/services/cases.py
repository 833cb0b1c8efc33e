"""Cases: creation with idempotency, the queue page, and the case view (the contract's proposal shape).

``create_case`` stores the documents once by hash, the case, its triage job and an audit event in
one transaction. A retried POST with the same ``Idempotency-Key`` (or the same client ``case_id``)
and the same body returns the existing case; the same key with a different body is a 409. Keys
belong to the calling token's user: another client's key is another key, and a client ``case_id``
taken by another client is a 409 that names nothing of theirs. The
request is hashed, validated and its documents stored before the write transaction, which is kept
short: on SQLite it is handed to the database's group commit (:mod:`app.db.group_commit`), which
batches the inserts of concurrent POSTs into one transaction under the writer lock.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Row, Select, Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.schemas import CASE_ID_PATTERN, ExceptionIn
from app.db.group_commit import GroupCommit
from app.db.models import Case, CaseDocument, Decision, Document, Proposal, StpApplication
from app.errors import ConflictError
from app.jobs.queue import enqueue
from app.services.audit import append_event
from app.services.desk import message_payment, payment_columns
from app.services.document_store import DocumentStore
from tools.errors import NotFoundError, ValidationError

_CASES = cast(Table, Case.__table__)
_CASE_DOCUMENTS = cast(Table, CaseDocument.__table__)
PRE_PROPOSAL = ("queued", "triaging")
STATUSES = ("queued", "triaging", "pending_review", "approved", "rejected", "applied", "failed", "manual")
# The queue's straight-through filter: every STP case, or those in a QA state (app.services.stp_apply)
QA_FILTERS = ("stp", "pending", "agreed", "disagreed")
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
    "steps",  # the agent's tool loop step by step (agents/nodes/verify.py)
)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def request_hash(body: ExceptionIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class CaseRef:
    """What submitting needs of a case: its id and status."""

    id: str
    status: str


_REPLAY_COLUMNS = (Case.id, Case.status, Case.request_hash, Case.idempotency_key, Case.created_by)
_BY_KEY = select(*_REPLAY_COLUMNS).where(
    Case.idempotency_key == bindparam("key"), Case.created_by == bindparam("user")
)
_BY_ID = select(*_REPLAY_COLUMNS).where(Case.id == bindparam("case_id"))


def _existing(
    session: Session, key: str | None, case_id: str | None, user: str
) -> Row[str, str, str, str | None, str] | None:
    # Plain rows on the session's connection, not ORM objects: this runs on every POST, and almost
    # always finds nothing.
    connection = session.connection()
    if key:
        found = connection.execute(_BY_KEY, {"key": key, "user": user}).first()
        if found is not None:
            return found
    if case_id:
        return connection.execute(_BY_ID, {"case_id": case_id}).first()
    return None


def _check_replay(
    case: Row[str, str, str, str | None, str], digest: str, key: str | None, user: str
) -> CaseRef:
    if case.created_by != user:  # another client's case: say nothing about it
        raise ConflictError("this case_id is already taken; choose another", source="case_id")
    if case.request_hash != digest:
        what = f"Idempotency-Key {key!r}" if key and case.idempotency_key == key else f"case_id {case.id!r}"
        raise ConflictError(f"{what} was already used with a different request body", source=case.id)
    return CaseRef(case.id, case.status)


def _sniff(data: bytes) -> str:
    from tools.sniff import sniff

    return sniff(data)


@dataclass
class Created:
    case: CaseRef
    created: bool


def _read_payment(payload: dict[str, Any], case_id: str, doc_refs: list[dict[str, Any]]) -> dict[str, Any]:
    """The case's one payment, parsed once at acceptance (CONTRACT: 422 naming the reason when the
    message or payment does not parse, or when they disagree); stored on the case and carried to
    the agent, so the analyst sees exactly the payment the agent repairs.

    A case with documents only is accepted when one of them yields a payment: they are extracted
    here, in the document sandbox, and the extractions kept for triage (extract once)."""
    from agents.nodes.intake import read_payment

    extractions: list[dict[str, Any]] = []
    if not payload.get("message") and not payload.get("payment"):
        from tools.documents.sandbox import extract_sandboxed
        from tools.errors import RepairDeskError

        for ref in doc_refs:
            try:
                ref["extraction"] = extract_sandboxed(ref.pop("data"), ref["name"])
                extractions.extend(ref["extraction"])
            except RepairDeskError as exc:
                ref["extraction_error"] = str(exc)
    payment, findings, kind = read_payment(payload, case_id, extractions)
    return {"payment": payment, "findings": findings, "message_format": kind}


def _insert_case(session: Session, row: dict[str, Any], doc_refs: list[dict[str, Any]], user: str) -> None:
    """The writes of ``create_case``: documents, case, job, audit event; the caller commits.

    Core inserts (the rows are not needed as ORM objects), in foreign-key order."""
    connection = session.connection()
    new_documents = {ref["sha256"]: ref for ref in doc_refs}  # the same content twice: one row
    for sha, ref in new_documents.items():
        if session.get(Document, sha) is None:
            session.add(
                Document(
                    sha256=sha,
                    size=ref["size"],
                    kind=ref["kind"],
                    extraction=ref.get("extraction"),
                    extraction_error=ref.get("extraction_error"),
                )
            )
    if doc_refs:
        session.flush()
    connection.execute(insert(_CASES), row)
    if doc_refs:
        connection.execute(
            insert(_CASE_DOCUMENTS),
            [
                {k: ref[k] for k in ("position", "name", "sha256")} | {"case_id": row["id"]}
                for ref in doc_refs
            ],
        )
    enqueue(session, row["id"])
    append_event(
        session,
        event="case_created",
        actor=user,
        case_id=row["id"],
        data={"exception_code": row["exception_code"], "documents": len(doc_refs), "status": "queued"},
    )


def create_case(
    session: Session,
    store: DocumentStore,
    body: ExceptionIn,
    *,
    user: str,
    idempotency_key: str | None,
    group_commit: GroupCommit | None = None,
) -> Created:
    """Create (or find, for a retry) the case and queue its triage; commits.

    With ``group_commit`` the inserts are committed by it (batched with other callers'); without,
    on ``session``."""
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
        raise ValidationError("must be 1-200 characters", source="Idempotency-Key")
    digest = request_hash(body)
    found = _existing(session, idempotency_key, body.case_id, user)
    if found is not None:
        return Created(_check_replay(found, digest, idempotency_key, user), created=False)

    case_id = body.case_id or f"EXC-{uuid.uuid4().hex[:12].upper()}"
    payload = body.model_dump(mode="json", exclude={"documents"}, exclude_none=True)
    payload["case_id"] = case_id
    doc_refs = []
    for position, doc in enumerate(body.documents):
        data = doc.content()
        sha = store.put(data)
        kind = _sniff(data)
        doc_refs.append(
            {"name": doc.name, "sha256": sha, "position": position, "size": len(data), "kind": kind}
            | {"data": data}
        )
    intake = _read_payment(payload, case_id, doc_refs)
    for ref in doc_refs:
        ref.pop("data", None)
    payload["documents"] = [{"name": d["name"], "sha256": d["sha256"]} for d in doc_refs]
    row = {
        "id": case_id,
        "exception_code": body.exception_code,
        "status": "queued",
        "customer_id": body.customer_id,
        "payload": payload,
        "request_hash": digest,
        "idempotency_key": idempotency_key,
        "created_by": user,
        "message_extraction": intake,
        # the desk's queue columns, from the payment parsed at acceptance (or the one submitted)
        **payment_columns(message_payment(intake) or body.payment),
    }
    try:
        if group_commit is not None:
            group_commit.run(lambda writer: _insert_case(writer, row, doc_refs, user))
        else:
            _insert_case(session, row, doc_refs, user)
            session.commit()
    except IntegrityError:
        # A concurrent retry with the same key or case id won the race: answer with its case.
        session.rollback()
        found = _existing(session, idempotency_key, body.case_id, user)
        if found is None:
            raise
        return Created(_check_replay(found, digest, idempotency_key, user), created=False)
    return Created(CaseRef(case_id, "queued"), created=True)


def get_case(session: Session, case_id: str) -> Case:
    if not _CASE_ID.fullmatch(case_id):  # never a case id (and a NUL would break PostgreSQL's query)
        raise NotFoundError("no such case", source=f"case {case_id[:80]!r}")
    case = session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        raise NotFoundError("no such case", source=f"case {case_id}")
    return case


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s:{seq}".encode()).decode().rstrip("=")


_MAX_SEQ = 2**63 - 1  # a BIGINT: a larger cursor would overflow the database's bound parameter


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = text.split(":", 1)
        if kind != "s" or not value.isdigit() or len(value) > 19 or int(value) > _MAX_SEQ:
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("not a cursor returned by this API", source="cursor") from exc


_CODE = re.compile(r"^[A-Za-z0-9_]{1,40}$")
_CASE_ID = re.compile(CASE_ID_PATTERN)


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
    Case.amount,
    Case.currency,
    Case.beneficiary,
    Case.value_date,
    Case.assignee,
    Case.straight_through,
    Case.qa_status,
)


def list_cases(
    db: Session | Connection,
    *,
    status: str | None = None,
    code: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    assignee: str | None = None,
    currency: str | None = None,
    qa: str | None = None,
) -> tuple[list[Any], str | None]:
    """One page of the queue, oldest first (FIFO), with an opaque cursor for the next page.

    Rows carry only the queue columns (no payloads): the queue is the hot read path, so a plain
    ``Connection`` (no ORM session) does as well as a ``Session``, and the statement for each
    combination of filters is built once, with bound parameters (building it and its cache key
    per request cost more than running it)."""
    params: dict[str, Any] = {"limit": limit + 1}
    if status:
        params["status"] = status
    if code:
        if not _CODE.fullmatch(code):
            raise ValidationError("an exception code is 1-40 letters, digits or '_'", source="code")
        params["code"] = code.upper()
    if cursor:
        params["after"] = decode_cursor(cursor)
    if assignee and assignee != "none":
        params["assignee"] = assignee
    if currency:
        params["currency"] = currency.upper()
    if qa and qa not in QA_FILTERS:
        raise ValidationError(f"qa is one of {', '.join(QA_FILTERS)}", source="qa")
    if qa and qa != "stp":
        params["qa"] = qa
    query = _queue_query(bool(status), bool(code), bool(cursor), assignee or "", bool(currency), qa or "")
    rows = list(db.execute(query, params).all())
    next_cursor = encode_cursor(rows[limit - 1].seq) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _queue_query(
    status: bool, code: bool, cursor: bool, assignee: str, currency: bool, qa: str = ""
) -> Select[*tuple[Any, ...]]:
    # "none" (unassigned) is its own statement; any other assignee is a bound parameter; so is "stp"
    # (every straight-through case) against a QA state
    return _cached_queue_query(
        status,
        code,
        cursor,
        "none" if assignee == "none" else bool(assignee),
        currency,
        "stp" if qa == "stp" else bool(qa),
    )


@lru_cache(maxsize=64)
def _cached_queue_query(
    status: bool, code: bool, cursor: bool, assignee: bool | str, currency: bool, qa: bool | str = False
) -> Select[*tuple[Any, ...]]:
    query: Select[*tuple[Any, ...]] = select(*QUEUE_COLUMNS).order_by(Case.seq).limit(bindparam("limit"))
    if status:
        query = query.where(Case.status == bindparam("status"))
    if code:
        query = query.where(Case.exception_code == bindparam("code"))
    if cursor:
        query = query.where(Case.seq > bindparam("after"))
    if assignee == "none":
        query = query.where(Case.assignee.is_(None))
    elif assignee:
        query = query.where(Case.assignee == bindparam("assignee"))
    if currency:
        query = query.where(Case.currency == bindparam("currency"))
    if qa == "stp":
        query = query.where(Case.straight_through.is_(True))
    elif qa:
        query = query.where(Case.qa_status == bindparam("qa"))
    return query


def _iso(value: datetime) -> str:
    """``as_utc(value).isoformat()``: naive values (SQLite) are UTC."""
    return value.isoformat() + "+00:00" if value.tzinfo is None else value.isoformat()


def _queue_item(row: Any, now: datetime, naive_now: datetime) -> dict[str, Any]:
    if isinstance(row, Row):  # QUEUE_COLUMNS, unpacked: faster than attribute look-ups by name
        (_, case_id, status, code, action, confidence, customer_id, created, updated,
         amount, currency, beneficiary, value_date, assignee, straight_through, qa_status) = row  # fmt: skip
    else:
        case_id, status, code, action = row.id, row.status, row.exception_code, row.action
        confidence, customer_id, created, updated = (
            row.confidence,
            row.customer_id,
            row.created_at,
            row.updated_at,
        )
        amount, currency, beneficiary = row.amount, row.currency, row.beneficiary
        value_date, assignee = row.value_date, row.assignee
        straight_through, qa_status = row.straight_through, row.qa_status
    age = (naive_now - created) if created.tzinfo is None else (now - created)
    return {
        "case_id": case_id,
        "status": status,
        "exception_code": code,
        "action": action,
        "confidence": confidence,
        "customer_id": customer_id,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "age_seconds": round(age.total_seconds(), 3),
        "amount": amount,
        "currency": currency,
        "beneficiary": beneficiary,
        "value_date": value_date.isoformat() if value_date else None,
        "assignee": assignee,
        "straight_through": bool(straight_through),
        "qa_status": qa_status,
    }


def queue_items(rows: Iterable[Any], at: datetime | None = None) -> list[dict[str, Any]]:
    """Queue entries from :class:`Case` objects or rows of ``QUEUE_COLUMNS``, their ages at ``at``.

    The hot path of the queue: plain formatting, no time zone round trips for naive (SQLite) values."""
    now = at or datetime.now(UTC)
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    return [_queue_item(row, now, naive_now) for row in rows]


def queue_item(case: Any, at: datetime | None = None) -> dict[str, Any]:
    """A queue entry from a :class:`Case` or a row of ``QUEUE_COLUMNS``."""
    return queue_items([case], at)[0]


def latest_proposal(session: Session, case_id: str, source: str | None = None) -> Proposal | None:
    query = select(Proposal).where(Proposal.case_id == case_id)
    if source:
        query = query.where(Proposal.source == source)
    return session.scalar(query.order_by(Proposal.version.desc()).limit(1))


def stp_details(session: Session, case: Case) -> dict[str, Any]:
    """What a straight-through case was applied under, and its QA state (``qa_status``)."""
    row = session.scalar(select(StpApplication).where(StpApplication.case_id == case.id))
    details: dict[str, Any] = {"qa_status": case.qa_status}
    if row is not None:
        details |= {
            "policy_version": row.policy_version,
            "confidence": row.confidence,
            "threshold": row.threshold,
            "upper_bound": row.upper_bound,
            "qa_sampled": row.qa_sampled,
        }
    return details


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
        view["model_usage"] = proposal.model_usage  # LLM calls, tokens, cost; absent for the playbook
        # CONTRACT "Additions": every proposal says whether it was applied without a human decision
        view["straight_through"] = bool(case.straight_through)
    if case.straight_through:
        view["stp"] = stp_details(session, case)
    if case.final_changes is not None:
        view["final_changes"] = case.final_changes
    if case.repaired_message:
        view["repaired_message"] = case.repaired_message
    if case.error:
        view["error"] = case.error
    view["customer_id"] = case.customer_id
    view["assignee"] = case.assignee
    view["triage_model"] = case.triage_model
    view["submitted_by"] = case.created_by
    view["edited_by"] = case.edited_by
    view["created_at"] = as_utc(case.created_at).isoformat()
    view["updated_at"] = as_utc(case.updated_at).isoformat()
    docs = session.execute(
        select(CaseDocument.name, CaseDocument.sha256, CaseDocument.position, Document.extraction_error)
        .outerjoin(Document, Document.sha256 == CaseDocument.sha256)
        .where(CaseDocument.case_id == case.id)
        .order_by(CaseDocument.position)
    )
    # A document that could not be read (over a limit, corrupt) says why, where the analyst looks.
    view["documents"] = [
        {"document_id": d.sha256, "name": d.name, "sha256": d.sha256, "position": d.position}
        | ({"error": d.extraction_error} if d.extraction_error else {})
        for d in docs
    ]
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
