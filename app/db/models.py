"""SQLAlchemy 2 models of the service's own tables (the schema is owned by Alembic migrations).

Tables: ``cases`` (one exception and its current state), ``proposals`` (each triage result, versioned,
with the model usage that produced it),
``decisions`` (approve/edit/reject), ``labelled_cases`` (decisions as evaluation data),
``documents`` (stored once by content hash) and ``case_documents``, ``users`` and ``api_tokens``
(sha256 hashes only), ``web_sessions`` (the UI's server-side sessions, sha256 of the id only),
``jobs`` (the persistent triage queue), ``audit_events`` (hash chain) and
``audit_head`` (the one row that serialises appends to the chain).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sql_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Case(Base):
    __tablename__ = "cases"
    # An idempotency key belongs to the client that sent it (the token's user), not to everyone.
    __table_args__ = (
        UniqueConstraint("created_by", "idempotency_key", name="uq_cases_creator_idempotency_key"),
        Index("ix_cases_status_seq", "status", "seq"),
    )

    # seq gives a stable FIFO order and keyset pagination; id is the client- or server-chosen case id.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    id: Mapped[str] = mapped_column(String(80), unique=True)
    exception_code: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the case as submitted, documents by hash
    request_hash: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str | None] = mapped_column(String(20))
    confidence: Mapped[float | None]
    message_extraction: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    final_changes: Mapped[list[Any] | None] = mapped_column(JSON)
    repaired_message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    edited_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The desk's queue columns (migration 0006_desk), copied from the payment once it is known
    # (app.services.desk.payment_columns) so the queue sorts and filters on indexes.
    assignee: Mapped[str | None] = mapped_column(String(80), index=True)
    amount: Mapped[float | None] = mapped_column(Numeric(20, 5, asdecimal=False), index=True)
    currency: Mapped[str | None] = mapped_column(String(3), index=True)
    beneficiary: Mapped[str | None] = mapped_column(String(140), index=True)
    value_date: Mapped[date | None] = mapped_column(Date, index=True)
    # Set by a re-triage: the agent thread (None: the case id) and model spec (None: the service's).
    triage_thread: Mapped[str | None] = mapped_column(String(120))
    triage_model: Mapped[str | None] = mapped_column(String(200))
    # Straight-through processing (migration 0007_stp, app.services.stp): auto-applied by the system,
    # and the human QA of such a case (None: not sampled; pending, agreed, disagreed).
    straight_through: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_false())
    qa_status: Mapped[str | None] = mapped_column(String(20), index=True)


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    source: Mapped[str] = mapped_column(String(20))  # "agent" or "edit"
    author: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # LLM calls, tokens and cost (USD, decimal string) behind an agent proposal; None without a metered model.
    model_usage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    user: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[list[Any]] = mapped_column(JSON)
    # pending: recorded, the graph's continuation not yet applied (app.services.decisions);
    # applied: done; first_approval: one of the two approvals analyst-asserted content needs.
    state: Mapped[str] = mapped_column(String(20), default="applied", server_default="applied", index=True)
    proposal_version: Mapped[int | None]
    resume_input: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason_code: Mapped[str | None] = mapped_column(String(40))
    correct_action: Mapped[str | None] = mapped_column(String(40))
    applied_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabelledCase(Base):
    """A decided case as evaluation data; ``exported_at`` is set once it is in corrections.jsonl."""

    __tablename__ = "labelled_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(String(80), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    exported_at: Mapped[datetime | None]


class Document(Base):
    __tablename__ = "documents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # tools.extract.sniff: pdf, image, xml, fin, text
    extraction: Mapped[list[Any] | None] = mapped_column(JSON)  # canonical extractions, once computed
    extraction_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseDocument(Base):
    __tablename__ = "case_documents"
    __table_args__ = (UniqueConstraint("case_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"))


# Intended same-shape classes: one mapped class per table, each spelling out its own columns.
class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex; the token is never stored
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="triage")
    status: Mapped[str] = mapped_column(String(20))  # queued, running, done, failed
    attempts: Mapped[int] = mapped_column(default=0)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # position in the global chain
    case_id: Mapped[str | None] = mapped_column(String(80), index=True)
    event: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(String(40))  # ISO text: hashed exactly as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(40))  # HMAC key id; None: legacy unkeyed SHA-256


class AuditHead(Base):
    """One row (id=1): the chain's last seq and hash. Updating it first serialises appenders."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class WebSession(Base):
    """A signed-in analyst UI session: the cookie holds an opaque id, only its sha256 is stored, and
    the session acts with the API token it was opened with (revoking the token ends the session)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # echoed in every form of the session
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class LayoutRuleRow(Base):
    """A document layout learned from one analyst correction (tools/documents/learned.py).

    ``rule`` is the :class:`~tools.documents.learned.LayoutRule` as JSON (issuer fingerprint, box,
    anchor); a removed rule keeps its row with ``deleted_at`` set, so the audit trail can name it.
    """

    __tablename__ = "layout_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the taught document
    field: Mapped[str] = mapped_column(String(80))
    issuer: Mapped[str | None] = mapped_column(String(255))  # the issuer's name or IBAN, for people
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_by: Mapped[str | None] = mapped_column(String(80))
    deleted_at: Mapped[datetime | None]


class StpPolicy(Base):
    """One fitted straight-through policy (tools/stp_bounds.py): never updated, the newest is in force."""

    __tablename__ = "stp_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)  # rules per (code, action), parameters, source
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StpControl(Base):
    """One row (id=1): the kill switch every worker reads before it auto-applies a proposal."""

    __tablename__ = "stp_control"

    id: Mapped[int] = mapped_column(primary_key=True)
    kill_switch: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_false())
    changed_by: Mapped[str | None] = mapped_column(String(80))
    changed_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


class StpApplication(Base):
    """What an auto-applied case was applied under, and whether it was sampled for human QA."""

    __tablename__ = "stp_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    policy_version: Mapped[int]
    exception_code: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float]
    threshold: Mapped[float]
    upper_bound: Mapped[float]
    qa_sampled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
