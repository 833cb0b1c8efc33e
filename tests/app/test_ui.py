"""The analyst UI over HTTP: sign-in, queue filters, the case page, decisions with errors in the page."""

from __future__ import annotations

import base64
import re
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


def form_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(api: Api, token_key: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    token = api.h[token_key]["Authorization"].split()[1]
    csrf = form_token(api.client.get("/ui/login").text)
    response = api.client.post("/ui/login", data={"token": token, "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui"
    assert "httponly" in response.headers["set-cookie"].lower()
    return form_token(api.client.get("/ui").text)


def test_ui_needs_sign_in_and_rejects_a_wrong_token(api: Api) -> None:
    response = api.client.get("/ui", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    csrf = form_token(api.client.get("/ui/login").text)
    bad = api.client.post("/ui/login", data={"token": "wrong", "csrf_token": csrf})
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
    assert "<del>DE89370400440532013001</del>" in page
    assert "<ins>DE89370400440532013000</ins>" in page
    assert page.count('class="hl"') >= 3  # extracted invoice fields highlighted on the page image
    assert "remittance.total_amount" in page
    assert "SOP-AC01 §3" in page
    assert "3.1 Validate the account in the message" in page  # the section's text, read from the corpus
    # The rule applied: its decision-table row, rendered from the corpus's Markdown on the server.
    assert "SOP-AC01 §3.3, row 2" in page
    applied = page.split('data-testid="rule-applied">', 1)[1].split("</div>", 1)[0]
    assert "<table>" in applied and "<code>repair</code> the creditor IBAN from the SSI" in applied
    assert "Anything else" not in applied  # only the cited row, under the table's header
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
    csrf = sign_in(api, "analyst")
    refused = api.client.post(
        f"/ui/cases/{case_id}/decision", data={"decision": "approve", "comment": "x", "csrf_token": csrf}
    )
    assert refused.status_code == 400
    assert "needs the approver role" in refused.text and "<html" in refused.text
    bad_json = api.client.post(
        f"/ui/cases/{case_id}/decision", data={"decision": "edit", "changes": "[{", "csrf_token": csrf}
    )
    assert "not valid JSON" in bad_json.text
    edit = '[{"field": "payment.creditor.name", "new": "ACME GmbH"}]'
    saved = api.client.post(
        f"/ui/cases/{case_id}/decision", data={"decision": "edit", "changes": edit, "csrf_token": csrf}
    )
    assert saved.status_code == 200 and "Edit saved" in saved.text
    assert "<ins>ACME GmbH</ins>" in saved.text
    csrf = sign_in(api, "approver")
    approved = api.client.post(
        f"/ui/cases/{case_id}/decision", data={"decision": "approve", "comment": "ok", "csrf_token": csrf}
    )
    assert "Approved" in approved.text
    assert api.view(case_id)["status"] == "applied"
    assert api.client.get("/ui/cases/EXC-MISSING").status_code == 404
