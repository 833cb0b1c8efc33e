"""The analyst UI at ``/ui``: server-rendered Jinja2 pages with a little vanilla JavaScript.

Sign-in with an API token opens a server-side session (:mod:`app.services.sessions`): the cookie
holds an opaque session id (HttpOnly, SameSite=Strict, Secure when served over TLS), never the token;
every page resolves it to the token's user and role. Every POST form carries the session's CSRF
token (the sign-in form a pre-session one), checked before anything else. Errors are rendered in the
page, never as raw JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from app.api.deps import admit, authenticate
from app.api.schemas import DecisionIn
from app.api.state import Services
from app.services import layout_rules
from app.services.auth import Principal
from app.services.case_actions import DESK_ROLES
from app.services.cases import STATUSES, get_case
from app.services.decisions import ROLES_FOR, decide
from app.services.desk import CORRECT_ACTIONS, REJECT_REASONS
from app.services.layout_rules import CorrectionIn
from app.services.pages import page_png
from app.services.sessions import WebUser, end_session, new_secret, open_session, resolve_session, same_secret
from app.ui.edit_form import changes_from_form, with_posted
from app.ui.queue import SORT_KEYS, SORT_LABELS, QueueQuery, next_case
from app.ui.view import case_page, document_kind, edit_basis
from tools.errors import RepairDeskError
from tools.messages.currencies import minor_units

HERE = Path(__file__).resolve().parent
COOKIE = "repairdesk_session"
LOGIN_COOKIE = "repairdesk_login"  # the sign-in form's pre-session CSRF value
CSRF_FIELD = "csrf_token"

templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/ui", include_in_schema=False)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _cache_dir(services: Services) -> Path:
    return services.settings.data_dir / "page-cache"


def _web_user(request: Request) -> WebUser | None:
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    services = _services(request)
    with services.db.session() as session:
        found = resolve_session(session, session_id)
    if found is not None:
        admit(services, found.principal)  # the token's rate limit applies to its sessions too (429)
        request.state.csrf_token = found.csrf_token
    return found


def _principal(request: Request) -> Principal | None:
    found = _web_user(request)
    return found.principal if found is not None else None


def _secure(request: Request) -> bool:
    return _services(request).settings.cookie_secure or request.url.scheme == "https"


def _login_redirect() -> RedirectResponse:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


async def _form_with_csrf(request: Request, expected: str | None) -> Any:
    """The POSTed form, or None when its CSRF token does not match ``expected``."""
    form = await request.form()
    presented = form.get(CSRF_FIELD)
    return form if same_secret(expected, presented if isinstance(presented, str) else None) else None


async def session_form(request: Request) -> tuple[Principal, Any] | Response:
    """A signed-in user's POSTed form whose CSRF token matches the session's; otherwise the response
    to send (the sign-in page, or 403 for a missing or wrong token). Every UI form goes through it."""
    found = await run_in_threadpool(_web_user, request)
    if found is None:
        return _login_redirect()
    form = await _form_with_csrf(request, found.csrf_token)
    if form is None:
        return HTMLResponse("The form expired (CSRF token); go back and reload the page.", status_code=403)
    return found.principal, form


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    context.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
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


def _login_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    """The sign-in form with a fresh pre-session CSRF value, in the form and in a cookie."""
    value = new_secret()
    response = _render(request, "login.html", {"error": error, "user": None, "csrf_token": value}, status)
    response.set_cookie(
        LOGIN_COOKIE, value, httponly=True, samesite="strict", secure=_secure(request), path="/ui/login"
    )
    return response


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form_with_csrf(request, request.cookies.get(LOGIN_COOKIE))
    if form is None:  # a cross-site or replayed sign-in: refuse before looking at the token
        return _login_page(
            request, "The sign-in form expired or did not come from this site; try again.", 403
        )
    token = str(form.get("token", "")).strip()
    services = _services(request)
    try:
        principal = await run_in_threadpool(authenticate, services, token) if token else None
    except RepairDeskError as exc:
        return _login_page(request, exc.reason, 401)
    if principal is None:
        return _login_page(request, "Enter your API token.", 401)

    def start() -> str:
        with services.db.session() as session:
            session_id, _ = open_session(session, principal)
            session.commit()
        return session_id

    session_id = await run_in_threadpool(start)
    response = RedirectResponse("/ui", status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/ui",
        max_age=12 * 3600,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ui/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    found = await run_in_threadpool(_web_user, request)
    if found is None:
        return _login_redirect()
    if await _form_with_csrf(request, found.csrf_token) is None:
        return Response("CSRF token missing or wrong", status_code=403, media_type="text/plain")
    session_id = request.cookies.get(COOKIE, "")

    def end() -> None:
        with _services(request).db.session() as session:
            end_session(session, session_id)
            session.commit()

    await run_in_threadpool(end)
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
    if form:  # a refused save shows the analyst's lines again, not the proposal's
        page["edit_rows"] = with_posted(page["edit_rows"], form)
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
            session, services.store, services.runners, case_id, body, user=principal.user, role=principal.role
        )


def _after_decision(services: Services, case_id: str, user: str, go_next: bool) -> str | None:
    if not go_next:
        return None
    with services.db.connect() as connection:
        return next_case(connection, case_id, user)


def _form_changes(services: Services, case_id: str, fields: dict[str, str]) -> list[dict[str, Any]]:
    """The per-field edit form's changes, against the case's current proposal and payment."""
    with services.db.session() as session:
        case = get_case(session, case_id)
        changes, payment = edit_basis(session, case)
    return changes_from_form(fields, changes, payment)


@router.post("/cases/{case_id}/decision")
async def case_decision(request: Request, case_id: str) -> Response:
    found = await run_in_threadpool(_web_user, request)
    if found is None:
        return _login_redirect()
    principal = found.principal
    form = await _form_with_csrf(request, found.csrf_token)
    if form is None:
        return _case_response(
            request, principal, case_id, error="The form expired (CSRF token); reload the page."
        )
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    decision = fields.get("decision", "")
    raw_json = decision == "edit_json"  # the JSON textarea's button: the API's format, kept for compatibility
    decision = "edit" if raw_json else decision
    comment = fields.get("comment", "").strip()
    reason_code = fields.get("reason_code") or None
    correct_action = fields.get("correct_action") or None
    if decision == "reject" and not (comment or reason_code):
        return _case_response(
            request, principal, case_id, error="A rejection needs a reason code or a comment.", form=fields
        )
    services = _services(request)
    try:
        if decision == "edit" and not raw_json and fields.get("edit_form") == "1":
            changes = await run_in_threadpool(_form_changes, services, case_id, fields)
        else:
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
        # An edit's refusal names the change (``changes[0].payment.creditor.account.iban: ...``).
        where = exc.source if exc.source and exc.source.startswith("changes[") else None
        message = f"{where}: {exc.reason}" if where else exc.reason
        return _case_response(request, principal, case_id, error=message, form=fields)
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


def _correct(services: Services, sha256: str, body: CorrectionIn, principal: Principal) -> dict[str, Any]:
    with services.db.session() as session, services.db.writer():
        return layout_rules.teach(session, services.store, sha256, body, user=principal.user)


@router.post("/cases/{case_id}/documents/{sha256}/corrections")
async def document_correction(request: Request, case_id: str, sha256: str) -> Response:
    """The case page's "Correct and learn" form: a field's value and the box selected on the page."""
    checked = await session_form(request)
    if isinstance(checked, Response):
        return checked
    principal, form = checked
    if principal.role not in ("analyst", "approver"):
        return _case_response(
            request, principal, case_id, error=f"role {principal.role} cannot correct documents"
        )
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
        png = page_png(_cache_dir(services), sha256, lambda: services.store.get(sha256), sha256, number)
    except RepairDeskError:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
