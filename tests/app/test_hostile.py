"""The attack suite (issue 18): dangerous documents, integrity, sessions, no 500s, no secrets leaked.

Runs against a live uvicorn server on 127.0.0.1 (a free port): each attack asserts the refusal, its
status and the limit or reason it names, and that the service kept answering (a health check every
50 ms while the attack runs, each within 1 s). The dangerous documents are generated here
(:mod:`tests.hostile_documents`), never committed.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.agents.fixtures import mt103
from tests.app.conftest import add_tokens
from tests.app.live import serve
from tests.hostile_documents import HOSTILE, HealthWatch, Hostile, giant_page

HEALTH_BOUND_S = 1.0
ANSWER_BOUND_S = 30.0


class Captured(logging.Handler):
    """Every log record of the service, formatted with its extra fields, for the secrets check."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


@dataclass
class Live:
    base: str
    headers: dict[str, dict[str, str]]
    logs: Captured
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base, timeout=60)

    def submit(self, role: str = "service", **body: Any) -> httpx.Response:
        return self.client.post(
            "/v1/exceptions", json={"exception_code": "AC01"} | body, headers=self.headers[role]
        )


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    return sqlite_db_url  # SQLite only: the attacks are on the HTTP surface; the API tests cover PostgreSQL


@pytest.fixture
def live(make_app: Callable[..., FastAPI]) -> Iterator[Live]:
    app = make_app(max_upload_bytes=2 * 1024 * 1024, max_request_bytes=4 * 1024 * 1024)
    logs = Captured()
    logger = logging.getLogger("repairdesk")
    previous = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(logs)
    try:
        with serve(app) as base:
            yield Live(base, add_tokens(app), logs)
    finally:
        logger.removeHandler(logs)
        logger.setLevel(previous)


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    message: str = body["error"]["message"]
    return message


# --- dangerous documents -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_dangerous_document_is_refused_naming_the_limit_and_health_stays_fast(
    live: Live, hostile: Hostile
) -> None:
    data = hostile.build()
    with HealthWatch(live.base) as health:
        started = time.perf_counter()
        response = live.client.post(
            "/v1/documents", files={"file": (hostile.name, data)}, headers=live.headers["analyst"]
        )
        elapsed = time.perf_counter() - started
    assert health.failures == 0, f"{health.failures} health checks failed"
    assert health.slowest < HEALTH_BOUND_S, f"slowest health check {health.slowest:.2f} s"
    message = _error(response, hostile.status)
    assert hostile.names in message and hostile.name in message
    assert elapsed < ANSWER_BOUND_S
    assert live.client.get("/healthz").status_code == 200


def test_a_case_with_a_dangerous_document_records_why(live: Live) -> None:
    doc = {"name": "giant-page.pdf", "content_base64": base64.b64encode(giant_page()).decode()}
    response = live.submit(message=mt103(ref="GIANT"), documents=[doc], case_id="EXC-GIANT")
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 30
    while True:
        view = live.client.get("/v1/exceptions/EXC-GIANT", headers=live.headers["analyst"]).json()
        if (view["status"] != "queued" and view["status"] != "triaging") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert view["status"] == "pending_review"  # the case goes on without the document ...
    assert "page-size limit" in view["documents"][0]["error"]  # ... and says why it was left out


def test_a_case_whose_only_document_is_dangerous_is_refused_at_once(live: Live) -> None:
    doc = {"name": "giant-page.pdf", "content_base64": base64.b64encode(giant_page()).decode()}
    message = _error(live.submit(documents=[doc]), 422)
    assert "document from which a payment can be read" in message


def test_a_case_with_a_payment_document_only_is_accepted(live: Live) -> None:
    doc = {"name": "mt103.txt", "content_base64": base64.b64encode(mt103(ref="DOCONLY").encode()).decode()}
    response = live.submit(documents=[doc], case_id="EXC-DOCONLY")
    assert response.status_code == 202, response.text


# --- one payment per case ------------------------------------------------------------------------


def test_message_and_a_different_payment_are_refused_naming_the_fields(live: Live) -> None:
    decoy = {"message_type": "103", "reference": "DECOY-1", "amount": "99999.00", "currency": "EUR"}
    message = _error(live.submit(message=mt103(ref="REAL-1", amount="100,00"), payment=decoy), 422)
    assert "payment.reference" in message and "payment.amount" in message
    assert "payment.currency" not in message  # the same in both


def test_an_agreeing_payment_is_accepted_and_the_case_shows_the_messages_parse(live: Live) -> None:
    same = {"message_type": "103", "reference": "REAL-2", "amount": "100.00", "currency": "EUR"}
    response = live.submit(message=mt103(ref="REAL-2", amount="100,00"), payment=same, case_id="EXC-SAME2")
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"message": "hello, this is not a payment"}, "neither SWIFT FIN nor ISO 20022"),
        ({"message": ":20:R\n"}, "holds no payment"),
        ({"message": "<Document><broken"}, "message"),
        ({"payment": {"amount": {"not": "a number"}}}, "does not match the contract"),
        ({}, "a message, a payment"),
    ],
)
def test_a_message_or_payment_that_does_not_parse_is_422_naming_the_reason(
    live: Live, body: dict[str, Any], reason: str
) -> None:
    assert reason in _error(live.submit(**body), 422)


# --- no 500 for any input ------------------------------------------------------------------------


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "x"}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_deep_json_is_refused_not_500(live: Live) -> None:
    assert "nested deeper" in _error(live.submit(message=mt103(), payment=_nested(600)), 422)
    deeper = '{"exception_code": "AC01", "payment": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = live.client.post(
        "/v1/exceptions",
        content=deeper,
        headers=live.headers["service"] | {"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text


@pytest.mark.parametrize(
    "cursor",
    [
        "9" * 100,
        base64.urlsafe_b64encode(b"s:" + b"9" * 100).decode(),
        base64.urlsafe_b64encode(b"s:-" + b"9" * 40).decode(),
        base64.urlsafe_b64encode(b"s:-1").decode(),
        "%00",
    ],
)
def test_bad_cursors_are_422(live: Live, cursor: str) -> None:
    response = live.client.get("/v1/exceptions", params={"cursor": cursor}, headers=live.headers["analyst"])
    assert "cursor" in _error(response, 422)


def test_odd_query_and_path_values_are_4xx(live: Live) -> None:
    headers = live.headers["analyst"]
    assert live.client.get("/v1/exceptions", params={"code": "A\x00B"}, headers=headers).status_code == 422
    assert live.client.get("/v1/exceptions/EXC%00X", headers=headers).status_code == 404
    assert live.client.get("/v1/exceptions", params={"limit": "9" * 50}, headers=headers).status_code == 422
    nul = live.submit(message=mt103(), notes="a\x00b")
    assert "NUL" in _error(nul, 422)


def test_a_chunked_body_over_the_limit_is_413(live: Live) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(80):
            yield b"x" * 65536  # 5 MB in all, no Content-Length

    def upload() -> Iterator[bytes]:
        yield b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n'
        yield from chunks()

    for path, body, headers in (
        ("/v1/exceptions", chunks, {"Content-Type": "application/json"}),
        ("/v1/documents", upload, {"Content-Type": "multipart/form-data; boundary=zzz"}),
    ):
        response = live.client.post(path, content=body(), headers=live.headers["analyst"] | headers)
        assert "limit" in _error(response, 413)


# --- web sessions ---------------------------------------------------------------------------------

SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def _sign_in(live: Live, key: str) -> tuple[httpx.Client, str]:
    browser = httpx.Client(base_url=live.base, timeout=30)
    token = live.headers[key]["Authorization"].split()[1]
    csrf = _form_token(browser.get("/ui/login").text)
    response = browser.post("/ui/login", data={"token": token, "csrf_token": csrf})
    assert response.status_code == 303, response.text
    cookie = response.headers["set-cookie"]
    assert token not in cookie and hashlib.sha256(token.encode()).hexdigest() not in cookie
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    return browser, _form_token(browser.get("/ui").text)


def test_the_session_cookie_is_an_opaque_id_and_sign_out_ends_it_on_the_server(live: Live) -> None:
    browser, csrf = _sign_in(live, "analyst")
    session_id = browser.cookies["repairdesk_session"]
    assert browser.get("/ui").status_code == 200
    assert browser.post("/ui/logout", data={"csrf_token": csrf}).status_code == 303
    replay = httpx.get(f"{live.base}/ui", cookies={"repairdesk_session": session_id})
    assert replay.status_code == 303 and replay.headers["location"] == "/ui/login"


def test_login_without_the_forms_csrf_value_is_refused(live: Live) -> None:
    token = live.headers["analyst"]["Authorization"].split()[1]
    # a cross-site form post: no pre-session cookie, a made-up value
    forged = httpx.post(f"{live.base}/ui/login", data={"token": token, "csrf_token": "forged"})
    assert forged.status_code == 403 and "repairdesk_session" not in forged.headers.get("set-cookie", "")
    browser = httpx.Client(base_url=live.base)
    browser.get("/ui/login")
    mismatched = browser.post("/ui/login", data={"token": token, "csrf_token": "other"})
    assert mismatched.status_code == 403


def test_a_form_post_without_the_sessions_csrf_token_changes_nothing(live: Live) -> None:
    live.submit(message=mt103(ref="CSRF"), case_id="EXC-CSRF")
    browser, _ = _sign_in(live, "approver")
    deadline = time.monotonic() + 15
    while live.client.get("/v1/exceptions/EXC-CSRF", headers=live.headers["analyst"]).json()["status"] in (
        "queued",
        "triaging",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    forged = browser.post("/ui/cases/EXC-CSRF/decision", data={"decision": "reject", "comment": "x"})
    assert "CSRF" in forged.text
    assert live.client.get("/v1/exceptions/EXC-CSRF", headers=live.headers["analyst"]).json()["status"] == (
        "pending_review"
    )
    assert browser.post("/ui/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert browser.get("/ui").status_code == 200  # still signed in


def test_security_headers_on_every_kind_of_response(live: Live) -> None:
    browser, _ = _sign_in(live, "analyst")
    responses = [
        live.client.get("/healthz"),
        live.client.get("/v1/exceptions", headers=live.headers["analyst"]),
        live.client.get("/v1/exceptions"),  # 401
        live.client.get("/nowhere"),  # 404
        live.client.get("/ui/login"),
        browser.get("/ui"),
        live.client.get("/ui/static/app.css"),
        live.client.post(
            "/v1/exceptions",
            content=b"x" * (5 * 1024 * 1024),
            headers=live.headers["service"] | {"Content-Type": "application/json"},
        ),  # 413 before the route
    ]
    for response in responses:
        for name in SECURITY_HEADERS:
            assert name in response.headers, (response.url, response.status_code, name)
        policy = response.headers["content-security-policy"]
        assert "http" not in policy and "script-src 'self'" in policy  # no CDN, no inline script
    assert responses[-1].status_code == 413


def test_nothing_token_like_in_metrics_or_logs_after_a_full_run(live: Live) -> None:
    browser, csrf = _sign_in(live, "approver")
    session_id = browser.cookies["repairdesk_session"]
    live.submit(message=mt103(ref="RUN"), case_id="EXC-RUN")
    live.client.get("/v1/exceptions", headers=live.headers["analyst"])
    live.client.get("/v1/exceptions", headers={"Authorization": "Bearer rd_wrong-guess-token"})
    live.client.post(
        "/v1/documents", files={"file": ("g.pdf", giant_page())}, headers=live.headers["analyst"]
    )
    browser.get("/ui/cases/EXC-RUN")
    browser.post("/ui/logout", data={"csrf_token": csrf})
    metrics = live.client.get("/metrics").text
    logs = "\n".join(live.logs.lines)
    assert logs, "no log lines captured"
    secrets = [h["Authorization"].split()[1] for h in live.headers.values()]
    secrets += ["rd_wrong-guess-token", session_id, csrf]
    secrets += [hashlib.sha256(s.encode()).hexdigest() for s in list(secrets)]
    for secret in secrets:
        assert secret not in metrics and secret not in logs, "a token, session id or hash leaked"
    assert "Bearer" not in metrics and "Bearer" not in logs
    assert not re.search(r"\brd_[A-Za-z0-9_-]{4,}", metrics + logs)
