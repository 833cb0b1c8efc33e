"""The analyst UI at ``/ui``: server-rendered Jinja2 pages with a little vanilla JavaScript.

Sign-in stores the API token in an HttpOnly, SameSite=Strict cookie (the same token and roles as the
API); every page resolves it like the API does. Errors are rendered in the page, never as raw JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from app.api.deps import authenticate
from app.api.schemas import DecisionIn
from app.api.state import Services
from app.db.models import Case
from app.services import layout_rules
from app.services.auth import Principal
from app.services.cases import QUEUE_COLUMNS, STATUSES, get_case, queue_item
from app.services.decisions import decide
from app.services.layout_rules import CorrectionIn
from app.services.pages import page_png
from app.ui.view import case_page, document_kind
from tools.errors import RepairDeskError

HERE = Path(__file__).resolve().parent
COOKIE = "repairdesk_token"
SORTS = {
    "age": Case.seq,
    "-age": Case.seq.desc(),
    "code": Case.exception_code,
    "status": Case.status,
    "confidence": Case.confidence.desc(),
}

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
def queue(
    request: Request, status: str | None = None, code: str | None = None, sort: str = "age"
) -> Response:
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    services = _services(request)
    error = None
    query = select(*QUEUE_COLUMNS).limit(500)
    if status:
        if status in STATUSES:
            query = query.where(Case.status == status)
        else:
            error = f"Unknown status {status!r}."
    if code:
        query = query.where(Case.exception_code == code.strip().upper())
    query = query.order_by(SORTS.get(sort, Case.seq), Case.seq)
    with services.db.session() as session:
        items = [queue_item(row) for row in session.execute(query)]
    for item in items:
        item["age"] = _age(item["age_seconds"])
    context = {
        "user": principal,
        "items": items,
        "statuses": STATUSES,
        "status": status or "",
        "code": code or "",
        "sort": sort if sort in SORTS else "age",
        "error": error,
    }
    return _render(request, "queue.html", context)


def _case_response(
    request: Request,
    principal: Principal,
    case_id: str,
    *,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    services = _services(request)
    with services.db.session() as session:
        try:
            case = get_case(session, case_id)
        except RepairDeskError as exc:
            return _render(request, "error.html", {"user": principal, "error": str(exc)}, status=404)
        page = case_page(session, services.store, _cache_dir(services), case)
    page.update(user=principal, error=error, notice=notice)
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


@router.post("/cases/{case_id}/decision")
async def case_decision(request: Request, case_id: str) -> Response:
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    form = await request.form()
    decision = str(form.get("decision", ""))
    try:
        changes = json.loads(str(form.get("changes") or "[]")) if decision == "edit" else []
        body = DecisionIn(decision=decision, changes=changes, comment=str(form.get("comment", "")))
        await run_in_threadpool(_decide, _services(request), case_id, body, principal)
    except json.JSONDecodeError as exc:
        return _case_response(
            request, principal, case_id, error=f"The edited changes are not valid JSON: {exc}"
        )
    except PydanticValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        return _case_response(request, principal, case_id, error=f"Invalid decision: {message}")
    except RepairDeskError as exc:
        return _case_response(request, principal, case_id, error=exc.reason)
    done = {"approve": "Approved", "edit": "Edit saved", "reject": "Rejected"}.get(decision, "Saved")
    return RedirectResponse(f"/ui/cases/{case_id}?notice={done}", status_code=303)


def _correct(services: Services, sha256: str, body: CorrectionIn, principal: Principal) -> dict[str, Any]:
    with services.db.session() as session, services.db.writer():
        return layout_rules.teach(session, services.store, sha256, body, user=principal.user)


@router.post("/cases/{case_id}/documents/{sha256}/corrections")
async def document_correction(request: Request, case_id: str, sha256: str) -> Response:
    """The case page's "Correct and learn" form: a field's value and the box selected on the page."""
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    if principal.role not in ("analyst", "approver"):
        return _case_response(
            request, principal, case_id, error=f"role {principal.role} cannot correct documents"
        )
    form = await request.form()
    try:
        bbox = [float(v) for v in str(form.get("bbox") or "").split(",") if v.strip()]
        if len(bbox) != 4:
            raise ValueError("select the value on the page image first (drag over it)")
        body = CorrectionIn(
            field=str(form.get("field", "")),
            value=str(form.get("value", "")),
            page=int(str(form.get("page") or 1)),
            bbox=bbox,
        )
        result = await run_in_threadpool(_correct, _services(request), sha256, body, principal)
    except PydanticValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        return _case_response(request, principal, case_id, error=f"Invalid correction: {message}")
    except ValueError as exc:
        return _case_response(request, principal, case_id, error=f"Invalid correction: {exc}")
    except RepairDeskError as exc:
        return _case_response(request, principal, case_id, error=exc.reason)
    notice = f"Correction saved; layout rule {result['rule']['id']} learned for this issuer"
    return RedirectResponse(f"/ui/cases/{case_id}?notice={notice}", status_code=303)


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
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=str(HERE / "static")), name="ui-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=307)
