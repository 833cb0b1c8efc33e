"""The analyst UI at ``/ui``: server-rendered Jinja2 pages with a little vanilla JavaScript.

Sign-in stores the API token in an HttpOnly, SameSite=Strict cookie (the same token and roles as the
API); every page resolves it like the API does. Errors are rendered in the page, never as raw JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from app.api.deps import authenticate
from app.api.schemas import DecisionIn
from app.api.state import Services
from app.services.auth import Principal
from app.services.case_actions import DESK_ROLES
from app.services.cases import STATUSES, get_case
from app.services.decisions import ROLES_FOR, decide
from app.services.desk import CORRECT_ACTIONS, REJECT_REASONS
from app.services.pages import page_png
from app.ui.queue import SORT_KEYS, SORT_LABELS, QueueQuery, next_case
from app.ui.view import case_page, document_kind
from tools.errors import RepairDeskError
from tools.messages.currencies import minor_units

HERE = Path(__file__).resolve().parent
COOKIE = "repairdesk_token"

templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/ui", include_in_schema=False)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _cache_dir(services: Services) -> Path:
    return services.settings.data_dir / "page-cache"


def _principal(request: Request) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return authenticate(_services(request), token)
    except RepairDeskError:
        return None


def _login_redirect() -> RedirectResponse:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def _age(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


@router.get("/login")
def login_form(request: Request, error: str | None = None) -> HTMLResponse:
    return _render(request, "login.html", {"error": error, "user": None})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token", "")).strip()
    services = _services(request)
    try:
        principal = await run_in_threadpool(authenticate, services, token) if token else None
    except RepairDeskError as exc:
        return _render(request, "login.html", {"error": exc.reason, "user": None}, status=401)
    if principal is None:
        return _render(request, "login.html", {"error": "Enter your API token.", "user": None}, status=401)
    response = RedirectResponse("/ui", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=services.settings.cookie_secure,
        path="/ui",
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout() -> Response:
    return _login_redirect()


@router.get("")
def queue(request: Request) -> Response:
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    services = _services(request)
    query = QueueQuery.from_params(dict(request.query_params), principal.user)
    with services.db.connect() as connection:
        items, total = query.page_rows(connection, services.settings)
    for item in items:
        item["age"] = _age(item["age_seconds"])
        item["amount_text"] = format_amount(item["amount"], item["currency"])
    pages = max(1, -(-total // query.size))
    context = {
        "user": principal,
        "items": items,
        "total": total,
        "q": query,
        "pages": pages,
        "statuses": STATUSES,
        "sort_keys": SORT_KEYS,
        "sort_labels": SORT_LABELS,
        "link": lambda **kw: "/ui?" + urlencode(query.params(**kw)),
        "error": " ".join(query.errors) or None,
        "notice": request.query_params.get("notice"),
        "can_bulk": principal.role == "approver",
    }
    return _render(request, "queue.html", context)


def format_amount(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return ""
    digits = minor_units(currency or "")
    return f"{amount:,.{2 if digits is None else digits}f}"


def _case_response(
    request: Request,
    principal: Principal,
    case_id: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    services = _services(request)
    with services.db.session() as session:
        try:
            case = get_case(session, case_id)
        except RepairDeskError as exc:
            return _render(request, "error.html", {"user": principal, "error": str(exc)}, status=404)
        page = case_page(session, services.store, _cache_dir(services), case)
        with services.db.connect() as connection:
            page["next_case"] = next_case(connection, case.id, principal.user)
    role = principal.role
    page.update(
        user=principal,
        error=error,
        notice=notice,
        form=form or {},
        reasons=REJECT_REASONS,
        correct_actions=CORRECT_ACTIONS,
        can={
            "approve": role in ROLES_FOR["approve"],
            "reject": role in ROLES_FOR["reject"],
            "edit": role in ROLES_FOR["edit"],
            "act": role in DESK_ROLES,
        },
    )
    return _render(request, "case.html", page, status=200 if error is None else 400)


@router.get("/cases/{case_id}")
def case_detail(request: Request, case_id: str, notice: str | None = None) -> Response:
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    return _case_response(request, principal, case_id, notice=notice)


def _decide(services: Services, case_id: str, body: DecisionIn, principal: Principal) -> None:
    with services.db.session() as session:
        decide(
            session, services.store, services.runner, case_id, body, user=principal.user, role=principal.role
        )


def _after_decision(services: Services, case_id: str, user: str, go_next: bool) -> str | None:
    if not go_next:
        return None
    with services.db.connect() as connection:
        return next_case(connection, case_id, user)


@router.post("/cases/{case_id}/decision")
async def case_decision(request: Request, case_id: str) -> Response:
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    decision = fields.get("decision", "")
    comment = fields.get("comment", "").strip()
    reason_code = fields.get("reason_code") or None
    correct_action = fields.get("correct_action") or None
    if decision == "reject" and not (comment or reason_code):
        return _case_response(
            request, principal, case_id, error="A rejection needs a reason code or a comment.", form=fields
        )
    services = _services(request)
    try:
        changes = json.loads(fields.get("changes") or "[]") if decision == "edit" else []
        extra = {"reason_code": reason_code, "correct_action": correct_action} if decision == "reject" else {}
        body = DecisionIn(decision=decision, changes=changes, comment=comment, **extra)
        await run_in_threadpool(_decide, services, case_id, body, principal)
    except json.JSONDecodeError as exc:
        return _case_response(
            request, principal, case_id, error=f"The edited changes are not valid JSON: {exc}", form=fields
        )
    except PydanticValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        return _case_response(request, principal, case_id, error=f"Invalid decision: {message}", form=fields)
    except RepairDeskError as exc:
        return _case_response(request, principal, case_id, error=exc.reason, form=fields)
    done = {"approve": "Approved", "edit": "Edit saved", "reject": "Rejected"}.get(decision, "Saved")
    # Keyboard flow: after approve or reject, open the next case of the queue (the notice names this one).
    upcoming = await run_in_threadpool(
        _after_decision, services, case_id, principal.user, decision != "edit" and fields.get("next") == "1"
    )
    if upcoming:
        return RedirectResponse(
            f"/ui/cases/{upcoming}?" + urlencode({"notice": f"{done} {case_id}"}), status_code=303
        )
    return RedirectResponse(f"/ui/cases/{case_id}?notice={done}", status_code=303)


@router.get("/cases/{case_id}/documents/{sha256}/pages/{number}.png")
def page_image(request: Request, case_id: str, sha256: str, number: int) -> Response:
    principal = _principal(request)
    if principal is None:
        return Response(status_code=401)
    services = _services(request)
    with services.db.session() as session:
        kind = document_kind(session, case_id, sha256)
    if kind not in {"pdf", "image"}:
        return Response(status_code=404)
    try:
        png = page_png(_cache_dir(services), sha256, services.store.get(sha256), sha256, number)
    except RepairDeskError:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def mount(app: FastAPI) -> None:
    from app.ui import actions  # its routes use this module's helpers

    app.include_router(router)
    app.include_router(actions.router)
    app.mount("/ui/static", StaticFiles(directory=str(HERE / "static")), name="ui-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=307)
