"""The analyst UI over HTTP: sign-in, queue filters, the case page, decisions with errors in the page."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from tests.app.conftest import Api
from tests.app.test_stp import install_policy


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """UI rendering does not depend on the database kind (the API tests cover both)."""
    return sqlite_db_url


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
    # The IBAN's changed character is highlighted, not the whole value.
    assert "<del>DE8937040044053201300<mark>1</mark></del>" in page
    assert "<ins>DE8937040044053201300<mark>0</mark></ins>" in page
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
    assert "<mark>ACME GmbH</mark></ins>" in saved.text
    csrf = sign_in(api, "approver")
    approved = api.client.post(
        f"/ui/cases/{case_id}/decision", data={"decision": "approve", "comment": "ok", "csrf_token": csrf}
    )
    assert "Approved" in approved.text
    assert api.view(case_id)["status"] == "applied"
    assert api.client.get("/ui/cases/EXC-MISSING").status_code == 404


PAYMENT = {
    "message_type": "pacs.008",
    "reference": "REF-UI",
    "amount": "1234.5",
    "currency": "EUR",
    "value_date": "2026-12-04",
    "creditor": {"name": "Acme Widgets GmbH"},
}


def queue_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-case="([^"]+)"', html)


def test_queue_columns_filters_sort_and_pages(api: Api) -> None:
    ids = []
    for index, (amount, currency, name) in enumerate(
        [("1234.5", "EUR", "Acme Widgets GmbH"), ("99", "USD", "Globex Corp"), ("5000", "JPY", "Initech KK")]
    ):
        payment = PAYMENT | {"amount": amount, "currency": currency, "creditor": {"name": name}}
        ids.append(api.submit(case_id=f"EXC-Q{index}", payment=payment))
    for case_id in ids:
        api.wait_status(case_id)
    sign_in(api, "analyst")
    page = api.client.get("/ui").text
    assert queue_ids(page) == ids
    row = page[page.index('<tr data-case="EXC-Q0"') :].split("</tr>")[0]
    for shown in ("1,234.50", "EUR", "Acme Widgets GmbH", "2026-12-04", 'data-testid="cutoff"'):
        assert shown in row, shown
    assert "5,000<" in page  # JPY has no minor units
    assert queue_ids(api.client.get("/ui", params={"sort": "-amount"}).text) == ["EXC-Q2", "EXC-Q0", "EXC-Q1"]
    assert queue_ids(api.client.get("/ui", params={"currency": "usd"}).text) == ["EXC-Q1"]
    assert queue_ids(api.client.get("/ui", params={"beneficiary": "widgets"}).text) == ["EXC-Q0"]
    assert queue_ids(api.client.get("/ui", params={"amount_min": "100", "amount_max": "2000"}).text) == [
        "EXC-Q0"
    ]
    assert queue_ids(api.client.get("/ui", params={"value_to": "2026-12-03"}).text) == []
    assert queue_ids(api.client.get("/ui", params={"action": "return"}).text) == []
    assert queue_ids(api.client.get("/ui", params={"action": "repair", "confidence_min": "0.9"}).text) == ids
    assert queue_ids(api.client.get("/ui", params={"confidence_min": "0.95"}).text) == []
    # One value date: by the currency's cut-off (EUR and JPY 16:00, USD 21:00), then FIFO.
    assert queue_ids(api.client.get("/ui", params={"sort": "cutoff"}).text) == ["EXC-Q0", "EXC-Q2", "EXC-Q1"]
    paged = api.client.get("/ui", params={"size": "2", "page": "2"}).text
    assert queue_ids(paged) == ["EXC-Q2"] and "Page 2 of 2" in paged and 'rel="prev"' in paged
    bad = api.client.get("/ui", params={"amount_min": "lots", "sort": "color"})
    assert bad.status_code == 200 and "is not a number" in bad.text and "Unknown sort" in bad.text


def test_assign_to_me_from_the_queue_and_filter_mine(api: Api) -> None:
    first, second = api.submit(case_id="EXC-AS1"), api.submit(case_id="EXC-AS2")
    api.wait_status(first)
    api.wait_status(second)
    csrf = sign_in(api, "analyst")
    done = api.client.post(
        f"/ui/cases/{first}/actions/assign", data={"csrf_token": csrf, "back": "queue"}, follow_redirects=True
    )
    assert "Assigned to you: EXC-AS1" in done.text
    assert queue_ids(api.client.get("/ui", params={"assignee": "me"}).text) == [first]
    assert queue_ids(api.client.get("/ui", params={"assignee": "none"}).text) == [second]
    case_page = api.client.get(f"/ui/cases/{first}").text
    assert '<dd data-testid="assignee">ana</dd>' in case_page and "Unassign" in case_page


def test_analyst_sees_no_approve_or_reject_and_reject_needs_a_reason(api: Api) -> None:
    case_id = api.wait_status(api.submit(case_id="EXC-RJ"))["case_id"]
    csrf = sign_in(api, "analyst")
    page = api.client.get(f"/ui/cases/{case_id}").text
    assert 'value="approve"' not in page and 'value="reject"' not in page and 'value="edit"' in page
    csrf = sign_in(api, "approver")
    page = api.client.get(f"/ui/cases/{case_id}").text
    assert 'value="approve"' in page and 'value="reject"' in page and 'name="reason_code"' in page
    empty = api.client.post(
        f"/ui/cases/{case_id}/decision", data={"csrf_token": csrf, "decision": "reject", "comment": " "}
    )
    assert empty.status_code == 400 and "needs a reason code or a comment" in empty.text
    assert api.view(case_id)["status"] == "pending_review"
    rejected = api.client.post(
        f"/ui/cases/{case_id}/decision",
        data={
            "csrf_token": csrf,
            "decision": "reject",
            "reason_code": "insufficient_evidence",
            "correct_action": "return",
        },
    )
    assert "Rejected" in rejected.text
    assert api.view(case_id)["status"] == "rejected"
    assert "[insufficient_evidence → return]" in rejected.text  # in the history


# Intended same start as the assign test: two triaged cases.
def test_after_a_decision_the_next_case_opens(api: Api) -> None:
    first, second = api.submit(case_id="EXC-N1"), api.submit(case_id="EXC-N2")
    api.wait_status(first)
    api.wait_status(second)
    csrf = sign_in(api, "approver")
    response = api.client.post(
        f"/ui/cases/{first}/decision",
        data={"csrf_token": csrf, "decision": "approve", "next": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/cases/EXC-N2?notice=Approved+EXC-N1"


def test_bulk_approve_in_the_ui(api: Api) -> None:
    install_policy(api.app.state.services.db)  # the STP policy in force decides eligibility
    eligible = api.submit(case_id="EXC-UB1", payment=PAYMENT)
    too_big = api.submit(case_id="EXC-UB2", payment=PAYMENT | {"amount": "99999"})
    api.wait_status(eligible)
    api.wait_status(too_big)
    csrf = sign_in(api, "analyst")
    assert 'data-testid="bulk-approve"' not in api.client.get("/ui").text
    csrf = sign_in(api, "approver")
    page = api.client.get("/ui").text
    assert 'name="case_id" value="EXC-UB1"' in page and 'name="case_id" value="EXC-UB2"' not in page
    done = api.client.post(
        "/ui/bulk-approve", data={"csrf_token": csrf, "case_id": [eligible, too_big]}, follow_redirects=True
    )
    assert (
        "Approved 1 of 2." in done.text
        and "EXC-UB2 (amount unknown or not under the limit 10000 EUR)" in done.text
    )
    assert api.view(eligible)["status"] == "applied" and api.view(too_big)["status"] == "pending_review"


def test_evidence_records_inline_and_repaired_message(api: Api) -> None:
    from tools.db import get_engine
    from tools.refdata.schema import RefDataFile
    from tools.refdata.store import RefDataStore

    store = RefDataStore(get_engine(api.app.state.services.settings.database_url))
    store.upsert(
        RefDataFile.model_validate(
            {
                "customers": [{"customer_id": "C-1042", "name": "Acme Widgets GmbH", "country": "DE"}],
                "ssis": [
                    {
                        "ssi_id": "C-1042:1",
                        "customer_id": "C-1042",
                        "beneficiary_name": "Acme Widgets GmbH",
                        "iban": "DE89370400440532013000",
                        "currency": "EUR",
                    }
                ],
            }
        )
    )
    case_id = api.wait_status(api.submit(case_id="EXC-EV"))["case_id"]
    csrf = sign_in(api, "approver2")
    page = api.client.get(f"/ui/cases/{case_id}").text
    evidence = page[page.index('data-testid="evidence"') :].split("</td>")[0]
    assert "Standing settlement instruction" in evidence
    assert "<dt>beneficiary_name</dt><dd>Acme Widgets GmbH</dd>" in evidence
    assert "<dt>iban</dt><dd>DE89370400440532013000</dd>" in evidence
    approved = api.client.post(
        f"/ui/cases/{case_id}/decision", data={"csrf_token": csrf, "decision": "approve"}
    )
    assert 'data-testid="repaired"' in approved.text and ":20:REPAIRED" in approved.text
    download = api.client.get(f"/ui/cases/{case_id}/repaired-message")
    assert download.status_code == 200 and download.text == ":20:REPAIRED"
    assert "attachment" in download.headers["content-disposition"]


def test_field_edit_with_an_invalid_iban_keeps_the_typed_values_and_shows_why(api: Api) -> None:
    case_id = api.submit(case_id="EXC-FE1")
    api.wait_status(case_id)
    csrf = sign_in(api, "analyst")
    page = api.client.get(f"/ui/cases/{case_id}").text
    assert 'data-testid="edit-form"' in page and 'data-currencies="' in page and " EUR " in page
    assert 'name="value:payment.creditor.account.iban"' in page
    form = {
        "decision": "edit",
        "edit_form": "1",
        "csrf_token": csrf,
        "comment": "beneficiary phoned in the new account",
        "value:payment.creditor.account.iban": "DE00 1234 5678 9012 3456 78",
        "source:payment.creditor.account.iban": "analyst-asserted",
        "value:payment.creditor.name": "Typed Name Ltd",
    }
    before = api.view(case_id)
    refused = api.client.post(f"/ui/cases/{case_id}/decision", data=form)
    assert refused.status_code == 400
    assert "changes[" in refused.text and "not a valid IBAN" in refused.text
    assert 'value="DE00 1234 5678 9012 3456 78"' in refused.text  # the analyst's text is kept
    assert 'value="Typed Name Ltd"' in refused.text
    assert "beneficiary phoned in the new account" in refused.text
    assert api.view(case_id).get("changes") == before.get("changes")  # nothing stored


def test_field_edit_saves_the_value_with_its_source(api: Api) -> None:
    case_id = api.submit(case_id="EXC-FE2")
    api.wait_status(case_id)
    csrf = sign_in(api, "analyst")
    form = {
        "decision": "edit",
        "edit_form": "1",
        "csrf_token": csrf,
        "comment": "name as on the invoice",
        "value:payment.creditor.name": "ACME Typed GmbH",
        "source:payment.creditor.name": "analyst-asserted",
    }
    saved = api.client.post(f"/ui/cases/{case_id}/decision", data=form)
    assert saved.status_code == 200 and "Edit saved" in saved.text
    changes = {c["field"]: c for c in api.view(case_id)["changes"]}
    assert changes["payment.creditor.name"]["new"] == "ACME Typed GmbH"
    assert changes["payment.creditor.name"]["evidence"] == ["analyst-asserted"]
    diff = saved.text[saved.text.index('data-testid="diff"') :].split("</section>")[0]
    assert "<code>payment.creditor.name</code>" in diff and "analyst-asserted" in diff
    # the approver sees the guard verdict of this edited version, not the agent's
    sign_in(api, "approver")
    page = api.client.get(f"/ui/cases/{case_id}").text
    guard = page[page.index('data-testid="guard"') :].split("</dd>")[0]
    assert "on the edited version" in guard and "analyst-asserted: payment.creditor.name" in guard
