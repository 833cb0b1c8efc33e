"""API: every bad-input status (400/401/403/404/409/413/415/422/429) in the one error shape, never a 500."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.app.conftest import Api, add_tokens


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    assert message
    return message


def test_bad_json_is_400_and_wrong_content_type_is_415(api: Api) -> None:
    headers = api.h["service"]
    _error(
        api.client.post(
            "/v1/exceptions", content=b"{not json", headers=headers | {"content-type": "application/json"}
        ),
        400,
        "bad_request",
    )
    _error(
        api.client.post(
            "/v1/exceptions", content=b"code=AC01", headers=headers | {"content-type": "text/plain"}
        ),
        415,
        "unsupported_media_type",
    )


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "exception_code"),
        ({"exception_code": "AC01"}, "message, a payment or at least one document"),
        ({"exception_code": "AC 01!", "message": "x"}, "exception_code"),
        ({"exception_code": "AC01", "message": "x", "case_id": "../etc"}, "case_id"),
        ({"exception_code": "AC01", "documents": [{"name": "a.pdf", "content_base64": "***"}]}, "base64"),
        ({"exception_code": "AC01", "message": "x", "surprise": 1}, "surprise"),
    ],
)
def test_invalid_case_is_422_naming_the_field(api: Api, body: dict[str, Any], where: str) -> None:
    message = _error(
        api.client.post("/v1/exceptions", json=body, headers=api.h["service"]), 422, "validation_error"
    )
    assert where in message


def test_query_and_decision_validation_is_422(api: Api) -> None:
    _error(api.client.get("/v1/exceptions?limit=0", headers=api.h["analyst"]), 422, "validation_error")
    _error(api.client.get("/v1/exceptions?status=lost", headers=api.h["analyst"]), 422, "validation_error")
    _error(api.client.get("/v1/exceptions?cursor=zzz", headers=api.h["analyst"]), 422, "validation_error")
    case_id = api.submit()
    api.wait_status(case_id)
    _error(api.decide(case_id, "approver", "maybe"), 422, "validation_error")
    _error(api.decide(case_id, "analyst", "edit"), 422, "validation_error")  # an edit without changes


def test_unknown_case_is_404(api: Api) -> None:
    for path in ("/v1/exceptions/EXC-NONE", "/v1/exceptions/EXC-NONE/audit"):
        _error(api.client.get(path, headers=api.h["analyst"]), 404, "not_found")
    _error(api.decide("EXC-NONE", "approver", "approve"), 404, "not_found")
    _error(api.client.get("/v1/nothing-here", headers=api.h["analyst"]), 404, "not_found")


def test_body_over_the_limit_is_413(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(max_request_bytes=2000, max_upload_bytes=1000)
    with TestClient(app) as client:
        headers = add_tokens(app)
        big = {"exception_code": "AC01", "message": "x" * 5000}
        _error(client.post("/v1/exceptions", json=big, headers=headers["service"]), 413, "payload_too_large")
        upload = client.post(
            "/v1/documents",
            files={"file": ("big.txt", b"a" * 1500, "text/plain")},
            headers=headers["analyst"],
        )
        _error(upload, 413, "input_too_large")


def test_documents_extracts_a_message_and_refuses_what_it_cannot_read(api: Api, shared_data: Path) -> None:
    fin = sorted((shared_data / "swift_mt" / "prowide").glob("prowide_103_*.fin"))[0]
    response = api.client.post(
        "/v1/documents",
        files={"file": (fin.name, fin.read_bytes(), "application/octet-stream")},
        headers=api.h["admin"],
    )
    assert response.status_code == 200, response.text
    assert response.json()["doc_type"].startswith("swift.mt103")
    assert response.json()["source"] == fin.name
    zipped = api.client.post(
        "/v1/documents",
        files={"file": ("a.pdf", b"PK\x03\x04" + b"\x00" * 64, "application/pdf")},
        headers=api.h["analyst"],
    )
    _error(zipped, 415, "unsupported_document")
    not_multipart = api.client.post(
        "/v1/documents", content=b"hello", headers=api.h["analyst"] | {"content-type": "text/plain"}
    )
    _error(not_multipart, 415, "unsupported_media_type")
    no_file = api.client.post("/v1/documents", files={"other": ("x.txt", b"x")}, headers=api.h["analyst"])
    _error(no_file, 422, "validation_error")
    empty = api.client.post(
        "/v1/documents", files={"file": ("e.txt", b"", "text/plain")}, headers=api.h["analyst"]
    )
    _error(empty, 422, "document_error")


def test_rate_limit_per_token_is_429(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(rate_limit_per_second=0.5, rate_limit_burst=3)
    with TestClient(app) as client:
        headers = add_tokens(app)
        statuses = [client.get("/v1/exceptions", headers=headers["analyst"]).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/v1/exceptions", headers=headers["analyst"])
        _error(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        # another token has its own bucket
        assert client.get("/v1/exceptions", headers=headers["approver"]).status_code == 200


def test_documents_in_a_case_are_stored_once_by_hash(api: Api) -> None:
    content = base64.b64encode(b"REMITTANCE ADVICE\nInvoice INV-1 EUR 100.00\n").decode()
    for n in range(2):
        api.submit(case_id=f"EXC-D{n}", documents=[{"name": f"advice{n}.txt", "content_base64": content}])
    files = [p for p in (api.app.state.services.settings.data_dir / "documents").rglob("*") if p.is_file()]
    assert len(files) == 1
    view = api.view("EXC-D1")
    assert view["documents"][0]["name"] == "advice1.txt"
    assert view["documents"][0]["sha256"] == files[0].name
