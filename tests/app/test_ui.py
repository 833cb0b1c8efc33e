"""The analyst UI over HTTP: sign-in, queue filters, the case page, decisions with errors in the page."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

from tests.app.conftest import Api


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """UI rendering does not depend on the database kind (the API tests cover both)."""
    target = tmp_path / "repairdesk.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


def sign_in(api: Api, token_key: str) -> None:
    token = api.h[token_key]["Authorization"].split()[1]
    response = api.client.post("/ui/login", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui"
    assert "httponly" in response.headers["set-cookie"].lower()


def test_ui_needs_sign_in_and_rejects_a_wrong_token(api: Api) -> None:
    response = api.client.get("/ui", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    bad = api.client.post("/ui/login", data={"token": "wrong"})
    assert bad.status_code == 401
    assert "unknown or revoked token" in bad.text
    assert 'role="alert"' in bad.text


def test_queue_lists_filters_and_sorts(api: Api) -> None:
    first = api.submit(case_id="EXC-U1", exception_code="AC01")
    api.submit(case_id="EXC-U2", exception_code="RC01")
    api.wait_status(first)
    sign_in(api, "analyst")
    page = api.client.get("/ui").text
    assert "EXC-U1" in page and "EXC-U2" in page
    assert page.index("EXC-U1") < page.index("EXC-U2")  # oldest first
    newest = api.client.get("/ui", params={"sort": "-age"}).text
    assert newest.index("EXC-U2") < newest.index("EXC-U1")
    rc01 = api.client.get("/ui", params={"code": "rc01"}).text
    assert "EXC-U2" in rc01 and "EXC-U1" not in rc01
    pending = api.client.get("/ui", params={"status": "pending_review"}).text
    assert "EXC-U1" in pending
    bad = api.client.get("/ui", params={"status": "lost"})
    assert "Unknown status" in bad.text


def test_case_page_shows_diff_highlights_citations_and_history(api: Api, shared_data: Path) -> None:
    pdf = (shared_data / "invoices" / "invoice2data" / "AzureInterior.pdf").read_bytes()
    documents = [{"name": "invoice.pdf", "content_base64": base64.b64encode(pdf).decode()}]
    case_id = api.submit(case_id="EXC-UI", documents=documents, notes="see invoice")
    api.wait_status(case_id)
    sign_in(api, "approver2")
    page = api.client.get(f"/ui/cases/{case_id}").text
    # The IBAN's changed character is highlighted, not the whole value.
    assert "<del>DE8937040044053201300<mark>1</mark></del>" in page
    assert "<ins>DE8937040044053201300<mark>0</mark></ins>" in page
    assert page.count('class="hl"') >= 3  # extracted invoice fields highlighted on the page image
    assert "remittance.total_amount" in page
    assert "SOP-AC01 §3" in page
    assert "3.1 Validate the account in the message" in page  # the section's text, read from the corpus
    assert "get_ssi" in page and "ssi:C-1042:1" in page
    assert "case_created" in page and "proposed" in page
    sha = api.view(case_id)["documents"][0]["sha256"]
    image = api.client.get(f"/ui/cases/{case_id}/documents/{sha}/pages/1.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert api.client.get(f"/ui/cases/{case_id}/documents/{sha}/pages/9.png").status_code == 404
    assert api.client.get(f"/ui/cases/EXC-OTHER/documents/{sha}/pages/1.png").status_code == 404


def test_decisions_in_the_ui_show_errors_in_the_page(api: Api) -> None:
    case_id = api.submit(case_id="EXC-UD")
    api.wait_status(case_id)
    sign_in(api, "analyst")
    refused = api.client.post(f"/ui/cases/{case_id}/decision", data={"decision": "approve", "comment": "x"})
    assert refused.status_code == 400
    assert "needs the approver role" in refused.text and "<html" in refused.text
    bad_json = api.client.post(f"/ui/cases/{case_id}/decision", data={"decision": "edit", "changes": "[{"})
    assert "not valid JSON" in bad_json.text
    edit = '[{"field": "payment.creditor.name", "new": "ACME GmbH"}]'
    saved = api.client.post(f"/ui/cases/{case_id}/decision", data={"decision": "edit", "changes": edit})
    assert saved.status_code == 200 and "Edit saved" in saved.text
    assert "<mark>ACME GmbH</mark></ins>" in saved.text
    sign_in(api, "approver")
    approved = api.client.post(f"/ui/cases/{case_id}/decision", data={"decision": "approve", "comment": "ok"})
    assert "Approved" in approved.text
    assert api.view(case_id)["status"] == "applied"
    assert api.client.get("/ui/cases/EXC-MISSING").status_code == 404
