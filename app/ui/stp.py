"""Straight-through processing in the UI: the STP page (state, policy, the admin's kill switch) and
the QA verdict form of an auto-applied case.

Both forms call the API's service functions (:func:`app.services.stp.set_kill_switch`,
:func:`app.services.stp_apply.qa_review`), so the role checks (admin for the switch; analyst or
approver for QA) and the audit events are the API's; a refusal is shown in the page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.api.state import Services
from app.services import stp
from app.services.auth import Principal
from app.services.stp_apply import qa_review
from app.ui.routes import _case_response, _login_redirect, _principal, _render, _services, session_form
from tools.errors import RepairDeskError

router = APIRouter(prefix="/ui", include_in_schema=False)


def _page(
    request: Request, principal: Principal, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    services = _services(request)
    with services.db.session() as session:
        state = stp.status(session, stp.StpOptions.from_settings(services.settings))
    context: dict[str, Any] = {
        "user": principal,
        "stp": state,
        "error": error,
        "notice": request.query_params.get("notice"),
        "can_switch": principal.role == stp.ADMIN_ROLE,
    }
    return _render(request, "stp.html", context, status)


@router.get("/stp")
def stp_page(request: Request) -> Response:
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    return _page(request, principal)


def _switch(services: Services, engaged: bool, reason: str, principal: Principal) -> None:
    with services.db.session() as session:
        stp.set_kill_switch(session, engaged, actor=principal.user, role=principal.role, reason=reason)
        session.commit()


@router.post("/stp/kill-switch")
async def kill_switch(request: Request) -> Response:
    checked = await session_form(request)
    if isinstance(checked, Response):
        return checked
    principal, form = checked
    engaged = str(form.get("engaged", "")) == "1"
    reason = str(form.get("reason", "")).strip()
    if not reason:
        return _page(request, principal, error="Say why (the reason is audited).", status=400)
    try:
        await run_in_threadpool(_switch, _services(request), engaged, reason, principal)
    except RepairDeskError as exc:
        return _page(request, principal, error=exc.reason, status=403 if "role" in exc.reason else 400)
    notice = "Kill switch on: straight-through stopped" if engaged else "Kill switch off"
    return RedirectResponse("/ui/stp?" + urlencode({"notice": notice}), status_code=303)


def _qa(services: Services, case_id: str, fields: dict[str, str], principal: Principal) -> None:
    with services.db.session() as session:
        qa_review(
            session,
            case_id,
            verdict=fields.get("verdict", ""),
            user=principal.user,
            role=principal.role,
            comment=fields.get("comment", "").strip(),
            reason_code=fields.get("reason_code") or None,
            correct_action=fields.get("correct_action") or None,
        )


@router.post("/cases/{case_id}/qa")
async def case_qa(request: Request, case_id: str) -> Response:
    checked = await session_form(request)
    if isinstance(checked, Response):
        return checked
    principal, form = checked
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    try:
        await run_in_threadpool(_qa, _services(request), case_id, fields, principal)
    except RepairDeskError as exc:
        reason = exc.reason
        return await run_in_threadpool(
            lambda: _case_response(request, principal, case_id, error=reason, form=fields)
        )
    return RedirectResponse(f"/ui/cases/{case_id}?notice=QA+recorded", status_code=303)
