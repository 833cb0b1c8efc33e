"""ASGI middleware: request ids, latency metrics, access logs, security headers and the body limit.

Pure ASGI (not BaseHTTPMiddleware) to keep per-request overhead small: request ids are 16 random
bytes in hex (no UUID object), the latency histogram's children are looked up once per (method,
route, status class), and the access log line is built only when INFO is enabled. A body over the
limit is answered 413 before the route runs when Content-Length says so, and otherwise as soon as
the streamed body passes the limit.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.logs import request_id_var
from tools.errors import InputTooLargeError

log = logging.getLogger("repairdesk.access")

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc pages start with an inline script (FastAPI's page templates).
_DOCS_CSP = _CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
_DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    csp = _DOCS_CSP if path in _DOCS_PATHS else _CSP
    return [*SECURITY_HEADERS, (b"content-security-policy", csp.encode())]


class BodyTooLarge(InputTooLargeError):
    pass


_LATENCY: dict[tuple[str, str, int], Any] = {}  # (method, route, status class) -> histogram child


def _observe(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status // 100)
    child = _LATENCY.get(key)
    if child is None:
        child = _LATENCY[key] = metrics.REQUEST_LATENCY.labels(
            method=method, route=route, status=f"{status // 100}xx"
        )
    child.observe(seconds)


async def _send_error(
    send: Send, status: int, code: str, message: str, request_id: str, path: str = ""
) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                *security_headers(path),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        path = str(scope.get("path") or "")
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if 0 < len(supplied) <= 64 and supplied.isprintable() else os.urandom(16).hex()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}
        limit = self.max_body_bytes
        length = headers.get(b"content-length")
        try:
            if length is not None and length.isdigit() and int(length) > limit:
                status_holder["status"] = 413
                await _send_error(
                    send, 413, "payload_too_large", f"body over the {limit}-byte limit", request_id, path
                )
                return
            received = 0
            too_large = False
            extra = [(b"x-request-id", request_id.encode()), *security_headers(path)]

            async def limited_receive() -> Message:
                nonlocal received, too_large
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        too_large = True
                        raise BodyTooLarge(f"body over the {limit}-byte limit", source="request")
                return message

            async def send_wrapper(message: Message) -> None:
                if too_large:  # whatever the route made of the broken body, the answer is 413
                    if message["type"] == "http.response.start":
                        status_holder["status"] = 413
                        await _send_error(
                            send,
                            413,
                            "payload_too_large",
                            f"body over the {limit}-byte limit",
                            request_id,
                            path,
                        )
                    return
                if message["type"] == "http.response.start":
                    status_holder["status"] = message["status"]
                    message = dict(message)
                    message["headers"] = [*message.get("headers", []), *extra]
                await send(message)

            await self.app(scope, limited_receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            _observe(scope["method"], template, status_holder["status"], elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": template,
                        "status": status_holder["status"],
                        "ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)
