"""Straight-through processing over HTTP: its state, the admin kill switch, and QA verdicts.

``GET /v1/stp`` (any role): enabled or not, the kill switch, amount limits, QA share and the policy in
force with its rule per exception code and action. ``POST /v1/stp/kill-switch`` (admin only):
``{"engaged": true, "reason": "..."}`` stops auto-apply at once for every process (the switch is a
database row read before each auto-apply), audited; ``false`` releases it.
``POST /v1/exceptions/{id}/qa`` (analyst, approver): a person's QA verdict on an auto-applied case;
a disagreement names the correct action and becomes the case's label.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import CurrentUser, ServicesDep, SessionDep, require_role
from app.api.schemas import ERROR_RESPONSES, CaseOut
from app.services import stp
from app.services.auth import Principal
from app.services.cases import case_view
from app.services.stp_apply import qa_review

router = APIRouter(tags=["exceptions"], responses=ERROR_RESPONSES)


class KillSwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engaged: bool = Field(description="true: stop auto-apply now; false: allow it again")
    reason: str = Field(min_length=1, max_length=2000, examples=["wrong repairs reported on AC01"])


class QaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["agree", "disagree"]
    comment: str = Field(default="", max_length=5000)
    reason_code: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_.:-]{1,40}$")
    correct_action: str | None = Field(default=None, max_length=40, pattern=r"^[a-z_]{1,40}$")


def _status(services: Any, session: Any) -> dict[str, Any]:
    return stp.status(session, stp.StpOptions.from_settings(services.settings))


@router.get("/v1/stp", summary="Straight-through processing: switches, limits and the policy in force")
def stp_status(services: ServicesDep, session: SessionDep, principal: CurrentUser) -> dict[str, Any]:
    return _status(services, session)


@router.post("/v1/stp/kill-switch", summary="Stop (or allow again) straight-through processing; admin only")
def kill_switch(
    body: KillSwitchIn,
    services: ServicesDep,
    session: SessionDep,
    principal: Annotated[Principal, require_role("admin")],
) -> dict[str, Any]:
    stp.set_kill_switch(session, body.engaged, actor=principal.user, role=principal.role, reason=body.reason)
    session.commit()
    return _status(services, session)


@router.post(
    "/v1/exceptions/{case_id}/qa",
    response_model=CaseOut,
    response_model_exclude_none=True,
    summary="A QA verdict on a straight-through case",
)
def qa(
    case_id: str,
    body: QaIn,
    session: SessionDep,
    principal: Annotated[Principal, require_role("analyst", "approver")],
) -> dict[str, Any]:
    case = qa_review(
        session,
        case_id,
        verdict=body.verdict,
        user=principal.user,
        role=principal.role,
        comment=body.comment,
        reason_code=body.reason_code,
        correct_action=body.correct_action,
    )
    return case_view(session, case)
