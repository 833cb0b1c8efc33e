"""The desk's case actions over HTTP: assign, retry, re-triage, hand off, bulk approve, repaired message.

``/v1/exceptions/{id}/assign|retry|retriage|manual`` (analyst or approver; each audited),
``/v1/exceptions/bulk-approve`` (approver: the straight-through eligible among the given cases,
maker-checker per case) and ``/v1/exceptions/{id}/repaired-message`` (the outgoing message).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.api.deps import CurrentUser, DeskUser, ServicesDep, SessionDep, require_role
from app.api.schemas import (
    ERROR_RESPONSES,
    AssignIn,
    BulkApproveIn,
    BulkApproveOut,
    CaseOut,
    HandOffIn,
    RetriageIn,
    RetryIn,
)
from app.services import case_actions
from app.services.auth import Principal
from app.services.bulk import bulk_approve
from app.services.cases import case_view, get_case
from app.services.repaired import repaired_message

router = APIRouter(prefix="/v1/exceptions", tags=["exceptions"], responses=ERROR_RESPONSES)


@router.post("/bulk-approve", response_model=BulkApproveOut, summary="Approve straight-through cases")
def bulk(
    body: BulkApproveIn,
    services: ServicesDep,
    session: SessionDep,
    principal: Annotated[Principal, require_role("approver")],
) -> dict[str, Any]:
    results = bulk_approve(
        session, services, body.case_ids, comment=body.comment, user=principal.user, role=principal.role
    )
    return {"results": results}


@router.post(
    "/{case_id}/assign",
    response_model=CaseOut,
    response_model_exclude_none=True,
    summary="Assign the case (or unassign)",
)
def assign(case_id: str, body: AssignIn, session: SessionDep, principal: DeskUser) -> dict[str, Any]:
    assignee = principal.user if body.assignee == "me" else body.assignee
    case = case_actions.assign(session, case_id, assignee, user=principal.user, role=principal.role)
    return case_view(session, case)


# Intended same shape (here and below): one thin route per desk action; the rules live in
# app.services.case_actions.
@router.post(
    "/{case_id}/retry",
    response_model=CaseOut,
    response_model_exclude_none=True,
    summary="Retry a failed triage",
)
def retry(
    case_id: str, body: RetryIn, services: ServicesDep, session: SessionDep, principal: DeskUser
) -> dict[str, Any]:
    case = case_actions.retry(
        session, case_id, user=principal.user, role=principal.role, comment=body.comment
    )
    services.notify_workers(case.id)
    return case_view(session, case)


@router.post(
    "/{case_id}/retriage",
    response_model=CaseOut,
    response_model_exclude_none=True,
    summary="Triage again, optionally with another model",
)
def retriage(
    case_id: str, body: RetriageIn, services: ServicesDep, session: SessionDep, principal: DeskUser
) -> dict[str, Any]:
    case = case_actions.retriage(
        session, case_id, user=principal.user, role=principal.role, model=body.model, comment=body.comment
    )
    services.notify_workers(case.id)
    return case_view(session, case)


@router.post(
    "/{case_id}/manual",
    response_model=CaseOut,
    response_model_exclude_none=True,
    summary="Hand the case off to manual handling",
)
def manual(case_id: str, body: HandOffIn, session: SessionDep, principal: DeskUser) -> dict[str, Any]:
    case = case_actions.hand_off(
        session, case_id, user=principal.user, role=principal.role, comment=body.comment
    )
    return case_view(session, case)


@router.get(
    "/{case_id}/repaired-message",
    summary="The repaired outgoing message (MT103 or pacs.008), as a download",
    responses={200: {"content": {"text/plain": {}, "application/xml": {}}}},
)
def download(
    case_id: str,
    session: SessionDep,
    principal: CurrentUser,
    format: Annotated[str | None, Query(pattern="^(mt103|pacs008)$")] = None,
) -> Response:
    message = repaired_message(get_case(session, case_id), format)
    return Response(
        message.content,
        media_type=message.media_type,
        headers={"Content-Disposition": f'attachment; filename="{message.filename}"'},
    )
