"""Correcting a document field in a real browser: drag over the value on the page image, type it,
save; the issuer's layout rule is learned (Debian chromium through Playwright, headless)."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.agents.fixtures import mt103
from tests.app.test_browser import (  # noqa: F401
    CHROMIUM,
    CHROMIUM_ARGS,
    db_url,
    live_server,
    submit_and_wait,
    wait_for_page_image,
)
from tests.app.test_layout_rules import ISSUER_A, _box_of, _invoice
from tests.conftest import require

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_drag_a_box_and_teach_the_total(live_server: tuple[str, dict[str, dict[str, str]]]) -> None:  # noqa: F811
    require(CHROMIUM.exists(), f"{CHROMIUM} missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    base, headers = live_server
    pdf = _invoice(*ISSUER_A, "A-3001", "100,00", "119,00")
    # Same call as test_browser's approve test, with this test's case.
    submit_and_wait(
        base,
        headers,
        case_id="EXC-TEACH",
        message=mt103(ref="REF1", amount="119,00"),
        documents=[{"name": "invoice.pdf", "content_base64": base64.b64encode(pdf).decode()}],
    )
    x0, top, x1, bottom = _box_of(pdf, "119,00")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/ui/login")
            page.fill("#token", headers["analyst"]["Authorization"].split()[1])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/ui")
            page.goto(f"{base}/ui/cases/EXC-TEACH")
            wait_for_page_image(page)
            sheet = page.locator(".page[data-page='1']")
            sheet.scroll_into_view_if_needed()
            frame = sheet.bounding_box()
            assert frame is not None
            width = float(sheet.get_attribute("data-width") or 0)
            height = float(sheet.get_attribute("data-height") or 0)
            sx, sy = frame["width"] / width, frame["height"] / height
            page.mouse.move(frame["x"] + (x0 - 2) * sx, frame["y"] + (top - 2) * sy)
            page.mouse.down()
            page.mouse.move(frame["x"] + (x1 + 2) * sx, frame["y"] + (bottom + 2) * sy, steps=5)
            page.mouse.up()
            selected = [float(v) for v in page.input_value("form.correction input[name=bbox]").split(",")]
            assert abs(selected[0] - (x0 - 2)) < 3 and abs(selected[3] - (bottom + 2)) < 3
            page.select_option("form.correction select[name=field]", "remittance.total_amount")
            page.fill("form.correction input[name=value]", "119.00")
            page.click("form.correction button[type=submit]")
            page.wait_for_url("**/ui/cases/EXC-TEACH?notice=*")
            assert "layout rule" in page.content()
        finally:
            browser.close()
    rules = httpx.get(f"{base}/v1/layout-rules", headers=headers["analyst"]).json()["rules"]
    assert [r["field"] for r in rules] == ["remittance.total_amount"]
    assert rules[0]["created_by"]
