"""Health, readiness, metrics, OpenAPI, structured logs with masking, procedure search route."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from app.logs import JsonFormatter, mask, request_id_var
from tests.app.conftest import Api


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """Operations do not depend on the database kind: SQLite only here."""
    return sqlite_db_url


def test_health_ready_and_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    case_id = api.submit()
    api.wait_status(case_id)
    api.decide(case_id, "approver", "reject")
    text = api.client.get("/metrics").text
    assert "repairdesk_queue_depth 0.0" in text
    assert 'repairdesk_decisions_total{decision="reject"}' in text
    assert 'repairdesk_proposals_total{action="repair"}' in text
    assert "repairdesk_triage_seconds_count" in text
    assert 'repairdesk_http_request_seconds_count{method="POST",route="/v1/exceptions",status="2xx"}' in text


def test_openapi_lists_the_contract_routes_with_examples(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/documents",
        "/v1/exceptions",
        "/v1/exceptions/{case_id}",
        "/v1/exceptions/{case_id}/decision",
        "/v1/exceptions/{case_id}/audit",
        "/v1/search",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in paths, path
    assert "202" in paths["/v1/exceptions"]["post"]["responses"]
    assert "examples" in spec["components"]["schemas"]["ExceptionIn"]
    assert "403" in paths["/v1/exceptions/{case_id}/decision"]["post"]["responses"]
    assert api.client.get("/docs").status_code == 200


def test_request_id_is_echoed(api: Api) -> None:
    response = api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert len(api.client.get("/healthz").headers["x-request-id"]) == 32


def test_logs_are_json_with_request_id_and_no_account_numbers_or_tokens() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("repairdesk.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    token = request_id_var.set("req-42")
    try:
        logger.info(
            "repair DE89370400440532013000 via Bearer rd_abcdefghijklmnop",
            extra={"account": "GB33BUKB20201555555555", "auth": "demo-approver-token"},
        )
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    line = stream.getvalue().strip()
    entry: dict[str, Any] = json.loads(line)
    assert entry["request_id"] == "req-42"
    assert entry["level"] == "INFO"
    for secret in (
        "DE89370400440532013000",
        "GB33BUKB20201555555555",
        "rd_abcdefghijklmnop",
        "demo-approver-token",
    ):
        assert secret not in line
    assert "DE**…3000" in entry["msg"]


def test_mask_keeps_ordinary_text() -> None:
    assert mask("case EXC-12 status approved") == "case EXC-12 status approved"
    assert "12345678901234" not in mask("account 12345678901234 closed")


def test_search_route_returns_contract_hits(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    class Hit:
        def __init__(self) -> None:
            self.doc_id, self.section, self.title = "SOP-AC01", "3.2", "Validate the account"
            self.text, self.score = "Run validate_iban ...", 0.91

    calls: list[tuple[str, str | None, int]] = []

    class Search:
        def search(self, q: str, code: str | None = None, k: int = 5) -> list[Hit]:
            calls.append((q, code, k))
            return [Hit()]

    api.app.state.services.procedure_search = Search()
    response = api.client.get(
        "/v1/search", params={"q": "wrong iban", "code": "ac01", "k": 3}, headers=api.h["analyst"]
    )
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "doc_id": "SOP-AC01",
            "section": "3.2",
            "title": "Validate the account",
            "text": "Run validate_iban ...",
            "score": 0.91,
        }
    ]
    assert calls == [("wrong iban", "AC01", 3)]
    assert api.client.get("/v1/search", headers=api.h["analyst"]).status_code == 422
    assert (
        api.client.get("/v1/search", params={"q": "x", "k": 500}, headers=api.h["analyst"]).status_code == 422
    )


def test_access_log_names_method_route_and_status_when_info_is_on(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="repairdesk.access"):
        api.client.get("/v1/exceptions?limit=1", headers=api.h["analyst"])
        api.client.get("/v1/exceptions/EXC-NONE", headers=api.h["analyst"])
    records = [r for r in caplog.records if r.name == "repairdesk.access"]
    assert [(r.method, r.path, r.status) for r in records] == [  # type: ignore[attr-defined]
        ("GET", "/v1/exceptions", 200),
        ("GET", "/v1/exceptions/{case_id}", 404),
    ]
    assert all(r.ms >= 0 for r in records)  # type: ignore[attr-defined]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="repairdesk.access"):
        api.client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "repairdesk.access"]
