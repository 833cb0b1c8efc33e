"""The analyst desk in a real browser (Debian chromium through Playwright, headless).

Sign in as an approver, open the case from the queue, see the extracted fields highlighted on the
invoice page and the before/after diff, approve, and see the new status and the audit entry.
A screenshot of the case page is saved under test-artifacts/.
"""

from __future__ import annotations

import base64
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from tests.agents.fixtures import mt103
from tests.app.conftest import StubTriage, add_tokens
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "repairdesk.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def live_server(
    tmp_path: Path, db_url: str, stub_triage: StubTriage
) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        workers=1,
        job_poll_seconds=0.05,
        migrate_on_startup=False,
    )
    app = create_app(settings, configure_logs=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield base, add_tokens(app)
    finally:
        server.should_exit = True
        thread.join(10)


def test_approve_a_case_in_the_browser(
    live_server: tuple[str, dict[str, dict[str, str]]], shared_data: Path
) -> None:
    require(CHROMIUM.exists(), f"{CHROMIUM} missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    base, headers = live_server
    pdf = (shared_data / "invoices" / "invoice2data" / "AzureInterior.pdf").read_bytes()
    body = {
        "case_id": "EXC-BROWSER",
        "exception_code": "AC01",
        "message": mt103(ref="REF1", amount="279,84"),
        "documents": [{"name": "invoice.pdf", "content_base64": base64.b64encode(pdf).decode()}],
    }
    assert (
        httpx.post(f"{base}/v1/exceptions", json=body, headers=headers["service"], timeout=30).status_code
        == 202
    )
    deadline = time.monotonic() + 30
    while httpx.get(f"{base}/v1/exceptions/EXC-BROWSER", headers=headers["service"]).json()["status"] != (
        "pending_review"
    ):
        assert time.monotonic() < deadline, "triage did not finish"
        time.sleep(0.1)

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

            page.wait_for_function(
                "document.querySelector('.page img') && document.querySelector('.page img').complete"
            )
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
