"""The analyst desk in a real browser (Debian chromium through Playwright, headless).

Sign in as an approver, open the case from the queue, see the extracted fields highlighted on the
invoice page and the before/after diff, approve, and see the new status and the audit entry.
A screenshot of the case page is saved under test-artifacts/.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.agents.fixtures import mt103
from tests.app.conftest import add_tokens
from tests.app.live import serve
from tests.app.test_desk_api import FailingOnce
from tests.conftest import ROOT, require

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    return sqlite_db_url  # SQLite only: one browser run is enough; the API tests cover PostgreSQL


@pytest.fixture
def live_server(make_app: Callable[..., FastAPI]) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    app = make_app()
    with serve(app) as base:
        yield base, add_tokens(app)


def test_approve_a_case_in_the_browser(
    live_server: tuple[str, dict[str, dict[str, str]]], shared_data: Path
) -> None:
    require(CHROMIUM.exists(), f"{CHROMIUM} missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    base, headers = live_server
    pdf = (shared_data / "invoices" / "invoice2data" / "AzureInterior.pdf").read_bytes()
    submit_and_wait(
        base,
        headers,
        case_id="EXC-BROWSER",
        message=mt103(ref="REF1", amount="279,84"),
        documents=[{"name": "invoice.pdf", "content_base64": base64.b64encode(pdf).decode()}],
    )

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(f"{base}/ui")
            assert page.url.endswith("/ui/login")
            page.fill("#token", headers["approver2"]["Authorization"].split()[1])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/ui")
            page.click("a[href='/ui/cases/EXC-BROWSER']")
            page.wait_for_url(f"{base}/ui/cases/EXC-BROWSER")

            wait_for_page_image(page)
            highlights = page.locator(".page .hl")
            assert highlights.count() >= 3
            box = highlights.first.bounding_box()
            assert (
                box is not None and box["width"] > 2 and box["height"] > 2
            )  # drawn on the page, not collapsed
            diff = page.locator("[data-testid=diff]")
            assert diff.locator("del").first.inner_text() == "DE89370400440532013001"
            assert diff.locator("ins").first.inner_text() == "DE89370400440532013000"
            page.screenshot(path=str(ARTIFACTS / "case-page.png"), full_page=True)

            page.fill("#comment", "SSI confirms the account")
            page.click("button[value=approve]")
            page.wait_for_url("**/ui/cases/EXC-BROWSER?notice=Approved")
            assert page.locator("[data-testid=status]").inner_text() == "applied"
            audit = page.locator("[data-testid=audit] tr[data-event=decision_approve]")
            assert audit.count() == 1
            assert "SSI confirms the account" in audit.inner_text()
            assert "bruno" in audit.inner_text()
            page.screenshot(path=str(ARTIFACTS / "case-page-approved.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "case-page.png").stat().st_size > 10_000


PAYMENT = {
    "message_type": "pacs.008",
    "reference": "REF-BR",
    "amount": "1250.00",
    "currency": "EUR",
    "value_date": "2026-12-04",
    "creditor": {"name": "Acme Widgets GmbH", "account": {"iban": "DE89370400440532013001"}},
}


def submit_and_wait(
    base: str, headers: dict[str, dict[str, str]], status: str = "pending_review", **body: Any
) -> str:
    """Submit a case (AC01 unless ``body`` says otherwise); returns its id once it reaches ``status``."""
    payload = {"exception_code": "AC01"} | body
    response = httpx.post(f"{base}/v1/exceptions", json=payload, headers=headers["service"], timeout=30)
    assert response.status_code == 202, response.text
    case_id: str = response.json()["case_id"]
    deadline = time.monotonic() + 30
    while httpx.get(f"{base}/v1/exceptions/{case_id}", headers=headers["service"]).json()["status"] != status:
        assert time.monotonic() < deadline, f"{case_id} did not reach {status}"
        time.sleep(0.1)
    return case_id


def wait_for_page_image(page: Any) -> None:
    """The first document page image, loaded. It loads lazily: bring it into view. Polled from here:
    wait_for_function's in-page polling evals a string, which the page's CSP (script-src 'self')
    refuses."""
    page.locator(".page img").first.scroll_into_view_if_needed()
    ready = "Array.from(document.querySelectorAll('.page img')).some(i => i.complete)"
    deadline = time.monotonic() + 20
    while not page.evaluate(ready):
        assert time.monotonic() < deadline, "the page image did not load"
        time.sleep(0.05)


@contextmanager
def _browser_page(base: str, headers: dict[str, dict[str, str]], who: str) -> Iterator[Any]:
    require(CHROMIUM.exists(), f"{CHROMIUM} missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"{base}/ui/login")
            page.fill("#token", headers[who]["Authorization"].split()[1])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/ui")
            yield page
        finally:
            browser.close()


def test_queue_columns_keyboard_and_assign_to_me(live_server: tuple[str, dict[str, dict[str, str]]]) -> None:
    base, headers = live_server
    first = submit_and_wait(base, headers, case_id="EXC-BQ1", payment=PAYMENT)
    second = submit_and_wait(base, headers, case_id="EXC-BQ2", payment=PAYMENT | {"currency": "USD"})
    with _browser_page(base, headers, "analyst") as page:
        row = page.locator(f"tr[data-case={first}]")
        assert row.locator("[data-testid=amount]").inner_text() == "1,250.00"
        assert "Acme Widgets GmbH" in row.inner_text() and "2026-12-04" in row.inner_text()
        assert row.locator("[data-testid=cutoff]").inner_text() != ""
        assert page.locator("[data-testid=bulk-approve]").count() == 0  # analysts do not bulk approve
        page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
        page.keyboard.press("j")  # select the second row, then assign it to me with "a"
        assert "selected" in (page.locator(f"tr[data-case={second}]").get_attribute("class") or "")
        page.keyboard.press("a")
        page.wait_for_url("**/ui?notice=*")
        assert page.locator("[data-testid=notice]").inner_text() == f"Assigned to you: {second}"
        assert page.locator(f"tr[data-case={second}] [data-testid=assignee]").inner_text() == "ana"
        page.click(f"tr[data-case={first}] [data-assign]")
        page.wait_for_url("**/ui?notice=*")
        page.select_option("select[name=sort]", "-amount")
        page.fill("input[name=assignee]", "me")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**/ui?*assignee=me*")
        assert page.locator("tbody tr[data-case]").count() == 2
        page.keyboard.press("Enter")  # opens the selected (first) case
        page.wait_for_url(f"**/ui/cases/{first}")
        assert page.locator("[data-testid=assignee]").first.inner_text() == "ana"
        # an analyst is offered no approve or reject
        assert page.locator("button[value=approve]").count() == 0
        assert page.locator("button[value=reject]").count() == 0
        page.screenshot(path=str(ARTIFACTS / "case-analyst.png"), full_page=True)


@pytest.fixture
def live_server_with_policy(
    make_app: Callable[..., FastAPI],
) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """The live server with an STP policy in force (AC01/repair from 0.9): bulk approve follows it."""
    from tests.app.test_stp import install_policy

    app = make_app()
    install_policy(app.state.services.db)
    with serve(app) as base:
        yield base, add_tokens(app)


def test_bulk_approve_in_the_browser(
    live_server_with_policy: tuple[str, dict[str, dict[str, str]]],
) -> None:
    base, headers = live_server_with_policy
    small = [submit_and_wait(base, headers, case_id=f"EXC-BB{i}", payment=PAYMENT) for i in range(3)]
    large = submit_and_wait(base, headers, case_id="EXC-BBX", payment=PAYMENT | {"amount": "50000.00"})
    with _browser_page(base, headers, "approver2") as page:
        page.on("dialog", lambda dialog: dialog.accept())
        assert page.locator("input[data-eligible]").count() == 3
        assert page.locator(f"tr[data-case={large}] input[type=checkbox]").count() == 0
        page.click("[data-select-eligible]")
        page.fill("input[name=comment]", "STP batch")
        page.screenshot(path=str(ARTIFACTS / "bulk-approve-selected.png"), full_page=True)
        page.click("[data-testid=bulk-approve]")
        page.wait_for_url("**/ui?notice=*")
        assert page.locator("[data-testid=notice]").inner_text() == "Approved 3 of 3."
        for case_id in small:
            assert page.locator(f"tr[data-case={case_id}] .badge").inner_text() == "applied"
        assert page.locator(f"tr[data-case={large}] .badge").inner_text() == "pending_review"
        page.screenshot(path=str(ARTIFACTS / "bulk-approve-done.png"), full_page=True)


def test_reject_with_a_reason_then_the_next_case(live_server: tuple[str, dict[str, dict[str, str]]]) -> None:
    base, headers = live_server
    first = submit_and_wait(base, headers, case_id="EXC-BR1", payment=PAYMENT)
    second = submit_and_wait(base, headers, case_id="EXC-BR2", payment=PAYMENT)
    with _browser_page(base, headers, "approver2") as page:
        alerts: list[str] = []

        def on_dialog(dialog: Any) -> None:
            alerts.append(dialog.message)
            dialog.accept()

        page.on("dialog", on_dialog)
        page.goto(f"{base}/ui/cases/{first}")
        # the changed IBAN character is marked
        assert page.locator("[data-testid=diff] del mark").first.inner_text() == "1"
        assert page.locator("[data-testid=diff] ins mark").first.inner_text() == "0"
        page.click("button[value=reject]")  # no reason, no comment: the page refuses
        assert alerts == ["Choose a reject reason or write a comment."]
        assert page.url.endswith(f"/ui/cases/{first}")
        page.select_option("#reason_code", "insufficient_evidence")
        page.select_option("#correct_action", "return")
        page.screenshot(path=str(ARTIFACTS / "reject-reason.png"), full_page=True)
        page.click("button[value=reject]")
        page.wait_for_url(f"**/ui/cases/{second}?notice=*")  # the next case opens
        assert page.locator("[data-testid=notice]").inner_text() == f"Rejected {first}"
        page.goto(f"{base}/ui/cases/{first}")
        assert page.locator("[data-testid=status]").inner_text() == "rejected"
        history = page.locator("[data-testid=audit] tr[data-event=decision_reject]").inner_text()
        assert "insufficient_evidence → return" in history and "bruno" in history
        page.screenshot(path=str(ARTIFACTS / "rejected.png"), full_page=True)


# The server's triage backend: the first triage of each case fails with a reason.
@pytest.mark.parametrize("stub_triage", [FailingOnce()], ids=["failing-once"])
def test_failure_shows_its_reason_then_retry(live_server: tuple[str, dict[str, dict[str, str]]]) -> None:
    base, headers = live_server
    case_id = submit_and_wait(base, headers, "failed", case_id="EXC-BF1", payment=PAYMENT)
    with _browser_page(base, headers, "analyst") as page:
        page.goto(f"{base}/ui/cases/{case_id}")
        assert "the model answered with no proposal" in page.locator("[data-testid=failure]").inner_text()
        assert page.locator("[data-testid=status]").inner_text() == "failed"
        page.screenshot(path=str(ARTIFACTS / "failed-case.png"), full_page=True)
        page.click("[data-testid=retry]")
        page.wait_for_url(f"**/ui/cases/{case_id}?notice=*")
        assert page.locator("[data-testid=notice]").inner_text() == f"Retry queued: {case_id}"
        deadline = time.monotonic() + 20
        while page.locator("[data-testid=status]").inner_text() != "pending_review":
            assert time.monotonic() < deadline, "the retried triage did not finish"
            time.sleep(0.2)
            page.reload()
        assert page.locator("[data-testid=failure]").count() == 0
        history = page.locator("[data-testid=audit]").inner_text()
        assert "triage_failed" in history and "retry_requested" in history
        page.screenshot(path=str(ARTIFACTS / "retried-case.png"), full_page=True)


def test_edit_with_an_invalid_iban_then_a_valid_one(
    live_server: tuple[str, dict[str, dict[str, str]]],
) -> None:
    base, headers = live_server
    case_id = submit_and_wait(base, headers, case_id="EXC-BE1", payment=PAYMENT)
    iban = "input[name='value:payment.creditor.account.iban']"
    with _browser_page(base, headers, "analyst") as page:
        page.goto(f"{base}/ui/cases/{case_id}")
        row = page.locator("tr[data-edit-field='payment.creditor.account.iban']")
        page.fill(iban, "DE89370400440532013009")  # one digit off: the mod-97 checksum fails
        assert row.locator("[data-field-error]").inner_text() == "invalid IBAN checksum (mod 97)"
        page.fill("#comment", "beneficiary confirmed by phone")
        page.click("[data-testid=save-edit]")  # refused in the page: nothing is posted, nothing lost
        assert page.url.endswith(f"/ui/cases/{case_id}")
        assert page.input_value(iban) == "DE89370400440532013009"
        page.screenshot(path=str(ARTIFACTS / "edit-invalid-iban.png"), full_page=True)
        page.fill(iban, "GB82 WEST 1234 5698 7654 32")
        assert row.locator("[data-field-error]").inner_text() == ""
        page.select_option("select[name='source:payment.creditor.account.iban']", "analyst-asserted")
        page.click("[data-testid=save-edit]")
        page.wait_for_url(f"**/ui/cases/{case_id}?notice=*")
        assert page.locator("[data-testid=notice]").inner_text() == "Edit saved"
        assert (
            "analyst-asserted: payment.creditor.account.iban"
            in page.locator("[data-testid=guard]").inner_text()
        )
        page.screenshot(path=str(ARTIFACTS / "edit-saved.png"), full_page=True)
    changes = httpx.get(f"{base}/v1/exceptions/{case_id}", headers=headers["service"]).json()["changes"]
    edited = {c["field"]: c for c in changes}["payment.creditor.account.iban"]
    assert edited["new"] == "GB82WEST12345698765432" and edited["evidence"] == ["analyst-asserted"]


def test_edit_an_address_line_too_long_then_added_and_saved(
    live_server: tuple[str, dict[str, dict[str, str]]],
) -> None:
    base, headers = live_server
    creditor = {
        "name": "Acme Widgets GmbH",
        "address_lines": ["Hauptstr. 1", "10115 Berlin"],
        "account": {"iban": "DE89370400440532013001"},
    }
    payment = PAYMENT | {"creditor": creditor}  # pacs.008: address lines of up to 70 characters
    case_id = submit_and_wait(base, headers, case_id="EXC-BL1", payment=payment)
    field = "payment.creditor.address_lines"
    first = f"input[name='line:{field}:0']"
    with _browser_page(base, headers, "analyst") as page:
        page.goto(f"{base}/ui/cases/{case_id}")
        row = page.locator(f"tr[data-edit-field='{field}']")
        assert row.locator("ol[data-lines] input").count() == 2
        assert page.input_value(first) == "Hauptstr. 1"
        page.fill(first, "Hauptstrasse 1, Hinterhaus, Aufgang B, 3. Obergeschoss, links, bei Mueller")
        assert row.locator("[data-field-error]").inner_text() == "line 1 has 74 characters; at most 70 a line"
        page.click("[data-testid=save-edit]")  # refused in the page: nothing is posted
        assert page.url.endswith(f"/ui/cases/{case_id}")
        page.screenshot(path=str(ARTIFACTS / "edit-address-too-long.png"), full_page=True)
        page.fill(first, "Hauptstrasse 1")
        row.locator("[data-add-line]").click()
        row.locator("ol[data-lines] li").last.locator("input").fill("Hinterhaus")
        row.locator("ol[data-lines] li").nth(1).locator("[data-remove-line]").click()  # "10115 Berlin"
        assert row.locator("[data-field-error]").inner_text() == ""
        page.select_option(f"select[name='source:{field}']", "analyst-asserted")
        page.fill("#comment", "new address confirmed by the beneficiary")
        page.click("[data-testid=save-edit]")
        page.wait_for_url(f"**/ui/cases/{case_id}?notice=*")
        assert page.locator("[data-testid=notice]").inner_text() == "Edit saved"
        assert f"analyst-asserted: {field}" in page.locator("[data-testid=guard]").inner_text()
        diff = page.locator("[data-testid=diff]").inner_text()
        assert "Hauptstr. 1 / 10115 Berlin" in diff and "Hauptstrasse 1 / Hinterhaus" in diff
        lines = page.locator(f"tr[data-edit-field='{field}'] ol[data-lines] input")
        assert [lines.nth(i).input_value() for i in range(lines.count())] == ["Hauptstrasse 1", "Hinterhaus"]
        page.screenshot(path=str(ARTIFACTS / "edit-address-saved.png"), full_page=True)
    changes = httpx.get(f"{base}/v1/exceptions/{case_id}", headers=headers["service"]).json()["changes"]
    edited = {c["field"]: c for c in changes}[field]
    assert edited["new"] == ["Hauptstrasse 1", "Hinterhaus"] and edited["evidence"] == ["analyst-asserted"]
