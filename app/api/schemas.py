"""Request and response bodies of the HTTP API (pydantic), with the examples shown in OpenAPI."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agents.contract import (
    Action,
    Change,
    Citation,
    Decision,
    DecisionBody,
    EditedChange,
    Guard,
    Step,
    ToolCall,
)

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$"
# A payment is some five levels deep; anything far deeper only exists to exhaust a recursive reader.
MAX_JSON_DEPTH = 32
MAX_JSON_NODES = 20_000


def check_json_shape(value: Any, what: str = "body") -> None:
    """Refuse JSON nested over ``MAX_JSON_DEPTH``, with over ``MAX_JSON_NODES`` values, or holding a
    NUL character (PostgreSQL cannot store one): an iterative walk, so depth cannot overflow it."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"{what} is nested deeper than the limit of {MAX_JSON_DEPTH} levels")
        if nodes > MAX_JSON_NODES:
            raise ValueError(f"{what} holds more than the limit of {MAX_JSON_NODES} values")
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in str(key):
                    raise ValueError(f"{what} holds a NUL character")
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and "\x00" in item:
            raise ValueError(f"{what} holds a NUL character")


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, examples=["advice.pdf"])
    content_base64: str = Field(min_length=1, description="The document's bytes, base64-encoded.")

    @field_validator("content_base64")
    @classmethod
    def _decodes(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"not valid base64: {exc}") from exc
        return value

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


class ExceptionIn(BaseModel):
    """An exception case (CONTRACT "Exception case"): a raw message, a payment, documents, or several."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "case_id": "EXC-2026-0001",
                    "exception_code": "AC01",
                    "message": "{1:F01BANKDEFFAXXX0000000000}{2:I103BANKGB2LXXXXN}{4:\n:20:REF123\n...-}",
                    "customer_id": "C-1042",
                    "notes": "Beneficiary bank returned AC01",
                }
            ]
        },
    )

    case_id: str | None = Field(default=None, pattern=CASE_ID_PATTERN)
    exception_code: str = Field(pattern=r"^[A-Za-z0-9_]{2,40}$", examples=["AC01"])
    message: str | None = Field(default=None, max_length=2_000_000)
    payment: dict[str, Any] | None = None
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)
    customer_id: str | None = Field(default=None, max_length=80)
    notes: str | None = Field(default=None, max_length=20_000)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        check_json_shape(value, "the case")
        return value

    @field_validator("exception_code")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _has_content(self) -> ExceptionIn:
        if not (self.message and self.message.strip()) and not self.payment and not self.documents:
            raise ValueError("a case needs a message, a payment or at least one document holding a payment")
        return self


class CaseAccepted(BaseModel):
    case_id: str = Field(examples=["EXC-2026-0001"])
    status: str = Field(examples=["queued"])


# An analyst's change and decision are the agent contract's own models (agents/contract.py).
ChangeIn = EditedChange


class DecisionIn(DecisionBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"decision": "approve", "comment": "SSI matches the advice"}]},
    )

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        check_json_shape(value, "the decision")
        return value

    def decision_of(self, user: str) -> Decision:
        """The contract's decision: this body and who sent it."""
        return Decision.model_validate({**self.model_dump(exclude_unset=True), "user": user})


# Field declarations of the API's contract: alike in shape to other models by design.
class QueueItem(BaseModel):
    case_id: str
    status: str
    exception_code: str
    action: str | None = None
    confidence: float | None = None
    customer_id: str | None = None
    created_at: str
    updated_at: str
    age_seconds: float
    amount: float | None = None
    currency: str | None = None
    beneficiary: str | None = None
    value_date: str | None = None
    assignee: str | None = None
    straight_through: bool = False  # applied without a human decision (app.services.stp_apply)
    qa_status: str | None = None  # QA of a straight-through case: pending, agreed, disagreed


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page.")


class ErrorBody(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["case EXC-1: no such case"])


class ErrorResponse(BaseModel):
    error: ErrorBody


class SearchHit(BaseModel):
    doc_id: str
    section: str
    title: str
    text: str
    score: float


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        400: "Bad request",
        401: "Missing or unknown token",
        403: "Role not allowed, or maker-checker",
        404: "Not found",
        409: "Conflict with the current state",
        413: "Body or upload too large",
        415: "Unsupported content type",
        422: "Validation failed",
        429: "Rate limit exceeded",
    }.items()
}


# The proposal's parts are the agent contract's models (agents/contract.py): one shape everywhere.
ChangeOut = Change


class DecisionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    decision: str
    user: str
    comment: str = ""
    changes: list[Any] = Field(default_factory=list)
    created_at: str


class CaseDocumentOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    sha256: str
    position: int


class CaseOut(BaseModel):
    """A case with its repair proposal (CONTRACT "Repair proposal"); fields absent until known.

    Further keys (model usage, versions, ...) pass through: the contract only ever adds names."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "case_id": "EXC-2026-0001",
                    "status": "pending_review",
                    "exception_code": "AC01",
                    "classification_confidence": 0.97,
                    "action": "repair",
                    "changes": [
                        {
                            "field": "payment.creditor.account.iban",
                            "old": "DE89370400440532013001",
                            "new": "DE89370400440532013000",
                            "evidence": ["ssi:C-1042:1"],
                        }
                    ],
                    "rationale": "The IBAN fails its checksum; the customer's SSI gives the account.",
                    "citations": [{"doc_id": "SOP-AC01", "section": "3.2"}],
                    "tool_calls": [
                        {"tool": "get_ssi", "args": {"customer_id": "C-1042"}, "result_ref": "ssi:C-1042:1"}
                    ],
                    "confidence": 0.93,
                    "guard": {"passed": True, "violations": []},
                    "model": "playbook",
                    "assignee": "ana",
                    "submitted_by": "svc-bot",
                    "created_at": "2026-12-03T09:00:00+00:00",
                    "updated_at": "2026-12-03T09:00:02+00:00",
                    "documents": [],
                    "decisions": [],
                }
            ]
        },
    )

    case_id: str
    status: str = Field(
        description="queued, triaging, pending_review, approved, rejected, applied, failed, manual"
    )
    exception_code: str
    # The proposal's fields the case view shows (app.services.cases.PROPOSAL_KEYS), typed as in
    # agents.contract.Proposal and absent until the case has a proposal (tests/shape/test_contract.py).
    classification_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    action: Action | None = None
    changes: list[Change] | None = None
    rationale: str | None = None
    citations: list[Citation] | None = None
    tool_calls: list[ToolCall] | None = None
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    guard: Guard | None = None
    model: str | None = None
    steps: list[Step] | None = None
    error: str | None = Field(default=None, description="Why the case failed, when it did.")
    final_changes: list[Any] | None = None
    repaired_message: str | None = None
    assignee: str | None = None
    customer_id: str | None = None
    submitted_by: str | None = None
    edited_by: str | None = None
    straight_through: bool | None = Field(
        default=None, description="Whether the proposal was applied without a human decision (STP)."
    )
    created_at: str | None = None
    updated_at: str | None = None
    documents: list[CaseDocumentOut] = Field(default_factory=list)
    decisions: list[DecisionOut] = Field(default_factory=list)


class AuditEventOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    seq: int
    event: str = Field(examples=["decision_approve"])
    actor: str = Field(examples=["bruno"])
    data: dict[str, Any]
    created_at: str
    prev_hash: str
    hash: str


class AuditTrail(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "EXC-2026-0001",
                    "events": [
                        {
                            "seq": 1,
                            "event": "case_created",
                            "actor": "svc-bot",
                            "data": {"exception_code": "AC01", "documents": 0, "status": "queued"},
                            "created_at": "2026-12-03T09:00:00.000000+00:00",
                            "prev_hash": "0" * 64,
                            "hash": "5f" * 32,
                        }
                    ],
                }
            ]
        }
    )

    case_id: str
    events: list[AuditEventOut]


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"assignee": "me"}]})

    assignee: str | None = Field(
        default="me", max_length=80, description='A user name, "me" (the caller), or null to unassign.'
    )


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=5000)


class RetriageIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"model": "playbook", "comment": "LLM timed out"}]}
    )

    model: str | None = Field(
        default=None, max_length=200, description="A model spec; default: the service's."
    )
    comment: str = Field(default="", max_length=5000)


class HandOffIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"comment": "Needs a call to the beneficiary bank"}]}
    )

    comment: str = Field(min_length=1, max_length=5000)


class BulkApproveIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"case_ids": ["EXC-1", "EXC-2"], "comment": "STP batch"}]},
    )

    case_ids: list[str] = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=5000)


class BulkResult(BaseModel):
    case_id: str
    approved: bool
    status: str | None = None
    reason: str = Field(description="Why the case was not approved, or what made it eligible.")


class BulkApproveOut(BaseModel):
    results: list[BulkResult]
