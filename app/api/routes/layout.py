"""Document field corrections and the layout rules they teach (CONTRACT "Additions, December 2026").

``POST /v1/documents/{document_id}/corrections`` (analyst, approver): ``{"field", "value", "page",
"bbox"}``; 201 with the learned rule and the document's new extraction. ``GET /v1/layout-rules``
lists the active rules (issuer, field, who, when); ``DELETE /v1/layout-rules/{id}`` removes one.
See :mod:`app.services.layout_rules`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import CurrentUser, DeskUser, ServicesDep, SessionDep
from app.api.schemas import ERROR_RESPONSES
from app.services import layout_rules
from app.services.layout_rules import CorrectionIn

router = APIRouter(prefix="/v1", tags=["documents"], responses=ERROR_RESPONSES)


@router.post(
    "/documents/{document_id}/corrections",
    status_code=201,
    summary="Correct a document field; the issuer's next documents are read from the same place",
)
def correct(
    document_id: str,
    body: CorrectionIn,
    services: ServicesDep,
    session: SessionDep,
    principal: DeskUser,
) -> dict[str, Any]:
    with services.db.writer():
        return layout_rules.teach(session, services.store, document_id, body, user=principal.user)


@router.get("/layout-rules", summary="Layout rules learned from corrections (issuer, field, who, when)")
def rules(session: SessionDep, principal: CurrentUser) -> dict[str, Any]:
    return {"rules": layout_rules.list_rules(session)}


# Intended same shape as the corrections route: one thin route per action (app.services.layout_rules).
@router.delete("/layout-rules/{rule_id}", summary="Remove a learned layout rule")
def remove(
    rule_id: int,
    services: ServicesDep,
    session: SessionDep,
    principal: DeskUser,
) -> dict[str, Any]:
    with services.db.writer():
        return layout_rules.delete_rule(session, rule_id, user=principal.user)
