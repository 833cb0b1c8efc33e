"""``/v1/exceptions``: submit a case (202, triage in the background), the queue, a case, decisions, audit.

Submitting and the queue are the hot paths (workflow systems post, analysts' screens poll): they
open their own session or connection rather than take a session dependency, build their answers
from plain rows and render them with orjson (:class:`app.api.responses.FastJSONResponse`). The
queue reads on the event loop where the database allows it (``Database.inline_reads``: SQLite).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import CurrentUser, ServicesDep, SessionDep, require_role
from app.api.responses import FastJSONResponse
from app.api.schemas import (
    ERROR_RESPONSES,
    AuditTrail,
    CaseAccepted,
    CaseOut,
    DecisionIn,
    ExceptionIn,
    QueuePage,
)
from app.api.state import Services
from app.db.session import Database
from app.errors import UnsupportedMediaError
from app.services import audit
from app.services.auth import Principal
from app.services.cases import STATUSES, case_view, create_case, get_case, list_cases, queue_items
from app.services.decisions import decide
from tools.errors import ValidationError

router = APIRouter(prefix="/v1/exceptions", tags=["exceptions"], responses=ERROR_RESPONSES)

# Intended near-copy of CaseView's schema example (app/api/schemas.py), with a row citation; tests and
# benchmarks keep their own literal case so an edit here cannot change what they assert.
CASE_EXAMPLE = {
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
    "citations": [
        {"doc_id": "SOP-AC01", "section": "3.3", "row": 2},
        {"doc_id": "SOP-AC01", "section": "3.2"},
    ],
    "tool_calls": [{"tool": "get_ssi", "args": {"customer_id": "C-1042"}, "result_ref": "ssi:C-1042:1"}],
    "confidence": 0.93,
    "guard": {"passed": True, "violations": []},
    "model": "playbook",
}


async def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaError(
            f"send application/json, not {content_type or 'no content type'}", source="body"
        )


@router.post(
    "",
    status_code=202,
    response_model=CaseAccepted,
    summary="Submit an exception case; triage runs in the background",
    # Checked before the body is validated: 415 rather than a confusing 422.
    dependencies=[Depends(require_json)],
)
def submit(
    request: Request,
    body: ExceptionIn,
    principal: Annotated[Principal, require_role("service", "analyst")],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:
    services: Services = request.app.state.services
    with services.db.session() as session:
        created = create_case(
            session,
            services.store,
            body,
            user=principal.user,
            idempotency_key=idempotency_key,
            group_commit=services.db.group_commit,
        )
        case_id, status = created.case.id, created.case.status
    if created.created:
        services.notify_workers(case_id)
    return FastJSONResponse(
        {"case_id": case_id, "status": status},
        status_code=202,
        headers={"Location": f"/v1/exceptions/{case_id}"},
    )


def _queue_page(
    db: Database, status: str | None, code: str | None, limit: int, cursor: str | None, **filters: str | None
) -> dict[str, Any]:
    with db.connect() as connection:
        rows, next_cursor = list_cases(
            connection, status=status, code=code, limit=limit, cursor=cursor, **filters
        )
    return {"items": queue_items(rows), "next_cursor": next_cursor}


@router.get(
    "",
    response_model=QueuePage,
    summary="A page of the queue, oldest first",
    response_class=JSONResponse,
)
async def queue(
    request: Request,
    principal: CurrentUser,
    status: Annotated[str | None, Query(description=f"one of {', '.join(STATUSES)}")] = None,
    code: Annotated[str | None, Query(max_length=40, description="exception code, e.g. AC01")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    assignee: Annotated[
        str | None, Query(max_length=80, description='a user, "me", or "none" (unassigned)')
    ] = None,
    currency: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$", description="ISO 4217, e.g. EUR")] = None,
    qa: Annotated[
        Literal["stp", "pending", "agreed", "disagreed"] | None,
        Query(description="straight-through cases (stp), or those whose QA is pending, agreed, disagreed"),
    ] = None,
) -> JSONResponse:
    if status is not None and status not in STATUSES:
        raise ValidationError(
            f"unknown status {status!r}; expected one of {', '.join(STATUSES)}", source="status"
        )
    db: Database = request.app.state.services.db
    filters = {"assignee": principal.user if assignee == "me" else assignee, "currency": currency, "qa": qa}
    if db.inline_reads:
        page = _queue_page(db, status, code, limit, cursor, **filters)
    else:
        page = await run_in_threadpool(lambda: _queue_page(db, status, code, limit, cursor, **filters))
    # Returned as a response, not re-validated: the hot path of the queue (QueuePage documents it).
    return FastJSONResponse(page)


def proposal_etag(view: dict[str, Any]) -> str:
    """The case's ETag: its proposal version (what a decision must name in ``If-Match``)."""
    return f'"v{view.get("proposal_version", 0)}"'


def parse_if_match(value: str | None) -> int | None:
    """``If-Match: "v3"`` (or ``W/"v3"``, ``"3"``) -> 3; ``*`` or absent -> None; else 422."""
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"').removeprefix("v")
    if not text.isdigit() or len(text) > 9:
        raise ValidationError('expected the ETag of GET, e.g. "v2"', source="If-Match")
    return int(text)


@router.get(
    "/{case_id}",
    summary="A case with its repair proposal (ETag: the proposal version)",
    response_model=CaseOut,
    response_model_exclude_none=True,  # the contract omits absent values (case_view drops them)
    responses={200: {"content": {"application/json": {"example": CASE_EXAMPLE}}}},
)
def case(case_id: str, session: SessionDep, principal: CurrentUser) -> JSONResponse:
    view = case_view(session, get_case(session, case_id))
    return JSONResponse(view, headers={"ETag": proposal_etag(view)})


@router.post(
    "/{case_id}/decision",
    summary="Approve, edit or reject the proposal (maker-checker applies; If-Match: the proposal's ETag)",
    response_model=CaseOut,
    response_model_exclude_none=True,  # the contract omits absent values (case_view drops them)
    responses={200: {"content": {"application/json": {"example": CASE_EXAMPLE | {"status": "approved"}}}}},
)
def decision(
    case_id: str,
    body: DecisionIn,
    services: ServicesDep,
    session: SessionDep,
    principal: Annotated[Principal, require_role("approver", "analyst")],
    if_match: Annotated[str | None, Header(alias="If-Match", max_length=100)] = None,
) -> JSONResponse:
    updated = decide(
        session,
        services.store,
        services.runners,
        case_id,
        body,
        user=principal.user,
        role=principal.role,
        if_match=parse_if_match(if_match),
        db=services.db,
    )
    view = case_view(session, updated)
    return JSONResponse(view, headers={"ETag": proposal_etag(view)})


@router.get(
    "/{case_id}/audit",
    summary="The case's audit events, oldest first, hash-chained",
    response_model=AuditTrail,
)
def audit_trail(case_id: str, session: SessionDep, principal: CurrentUser) -> dict[str, Any]:
    get_case(session, case_id)
    return {
        "case_id": case_id,
        "events": [audit.event_to_json(e) for e in audit.case_events(session, case_id)],
    }
