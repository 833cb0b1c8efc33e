"""The desk's actions in the UI: assign, retry, re-triage, hand off, bulk approve, the repaired message.

Each is a form POST that calls the same service function as the API route (app.services.case_actions,
app.services.bulk), so the role checks, state checks and audit events are the API's; a refusal is
shown in the page, a success redirects with a notice naming the case.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.api.state import Services
from app.services import case_actions
from app.services.auth import Principal
from app.services.bulk import bulk_approve
from app.services.cases import get_case
from app.services.repaired import repaired_message
from app.ui.routes import _case_response, _principal, _render, _services, session_form
from tools.errors import RepairDeskError, ValidationError

router = APIRouter(prefix="/ui", include_in_schema=False)


def _act(services: Services, case_id: str, action: str, fields: dict[str, str], principal: Principal) -> str:
    user, role = principal.user, principal.role
    comment = fields.get("comment", "").strip()
    with services.db.session() as session:
        if action == "assign":
            case_actions.assign(session, case_id, user, user=user, role=role)
            return "Assigned to you"
        if action == "unassign":
            case_actions.assign(session, case_id, None, user=user, role=role)
            return "Unassigned"
        if action == "retry":
            case_actions.retry(session, case_id, user=user, role=role, comment=comment)
            services.notify_workers(case_id)
            return "Retry queued"
        if action == "retriage":
            model = fields.get("model", "").strip() or None
            case_actions.retriage(session, case_id, user=user, role=role, model=model, comment=comment)
            services.notify_workers(case_id)
            return "Re-triage queued"
        if action == "manual":
            case_actions.hand_off(session, case_id, user=user, role=role, comment=comment)
            return "Handed off to manual handling"
    raise ValidationError(f"unknown action {action!r}", source="action")


@router.post("/cases/{case_id}/actions/{action}")
async def case_action(request: Request, case_id: str, action: str) -> Response:
    # The form-post preamble every UI action shares (session_form does the work): alike by design.
    checked = await session_form(request)
    if isinstance(checked, Response):
        return checked
    principal, form = checked
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    try:
        done = await run_in_threadpool(_act, _services(request), case_id, action, fields, principal)
    except RepairDeskError as exc:
        return _case_response(request, principal, case_id, error=exc.reason, form=fields)
    back = fields.get("back") == "queue"
    target = "/ui" if back else f"/ui/cases/{case_id}"
    return RedirectResponse(f"{target}?" + urlencode({"notice": f"{done}: {case_id}"}), status_code=303)


def _bulk(
    services: Services, case_ids: list[str], comment: str, principal: Principal
) -> list[dict[str, Any]]:
    with services.db.session() as session:
        return bulk_approve(
            session, services, case_ids, comment=comment, user=principal.user, role=principal.role
        )


@router.post("/bulk-approve")
async def bulk_approve_cases(request: Request) -> Response:
    checked = await session_form(request)
    if isinstance(checked, Response):
        return checked
    principal, form = checked
    case_ids = [str(v) for v in form.getlist("case_id")][:200]
    if principal.role != "approver":
        return RedirectResponse("/ui?" + urlencode({"notice": "Bulk approve needs the approver role."}), 303)
    if not case_ids:
        return RedirectResponse("/ui?" + urlencode({"notice": "Select cases to approve."}), 303)
    results = await run_in_threadpool(
        _bulk, _services(request), case_ids, str(form.get("comment", "")), principal
    )
    approved = [r["case_id"] for r in results if r["approved"]]
    refused = [f"{r['case_id']} ({r['reason']})" for r in results if not r["approved"]]
    notice = f"Approved {len(approved)} of {len(results)}."
    if refused:
        notice += " Not approved: " + "; ".join(refused[:10])
    return RedirectResponse("/ui?" + urlencode({"notice": notice}), status_code=303)


@router.get("/cases/{case_id}/repaired-message")
def repaired_download(request: Request, case_id: str, format: str | None = None) -> Response:
    principal = _principal(request)
    if principal is None:
        return Response(status_code=401)
    services = _services(request)
    try:
        with services.db.session() as session:
            message = repaired_message(
                get_case(session, case_id), format if format in {"mt103", "pacs008"} else None
            )
    except RepairDeskError as exc:
        return _render(request, "error.html", {"user": principal, "error": str(exc)}, status=404)
    return Response(
        message.content,
        media_type=message.media_type,
        headers={"Content-Disposition": f'attachment; filename="{message.filename}"'},
    )
