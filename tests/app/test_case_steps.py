"""The case page lists the agent's tool loop step by step (the proposal's ``steps``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.conftest import Api, StubTriage
from tests.app.test_ui import sign_in

STEPS = [
    {
        "kind": "planner",
        "text": "",
        "calls": ['validate_iban({"iban": "DE89370400440532013001"})'],
        "ms": None,
    },
    {"kind": "tool", "tool": "validate_iban", "status": "success", "text": '{"valid": false}', "ms": 1.2},
    {
        "kind": "tool",
        "tool": "wire_funds",
        "status": "error",
        "text": "tool 'wire_funds' does not exist",
        "ms": 0.1,
    },
    {"kind": "verdict", "text": "repair: <script>alert(1)</script>", "calls": [], "ms": None},
]


def test_case_page_lists_the_agent_steps(
    api: Api, stub_triage: StubTriage, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = stub_triage.start

    def start(case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        return {**original(case, thread_id), "steps": STEPS}

    monkeypatch.setattr(stub_triage, "start", start)
    case_id = api.submit(case_id="EXC-STEPS")
    api.wait_status(case_id)
    assert api.view(case_id)["steps"] == STEPS
    sign_in(api, "approver2")
    page = api.client.get(f"/ui/cases/{case_id}").text
    section = page.split('data-testid="agent-steps"', 1)[1].split("</section>", 1)[0]
    assert section.count("<li ") == len(STEPS)
    assert "validate_iban" in section and "1.2 ms" in section
    assert "wire_funds" in section and "refused" in section
    assert "<script>" not in section and "&lt;script&gt;" in section
