"""Attached documents that disagree with the payment are findings the agent cannot close over.

The known bad case: REM-C1005-EXACT (GBP 2,999.99 quoting INV-5004) with a real invoice attached
that says EUR 34.73 used to end as ``no_action`` "matches exactly".
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from agents.runner import TriageRunner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def demo_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPAIRDESK_TODAY", "2026-11-20")


def _case(case_id: str) -> dict[str, Any]:
    for line in (ROOT / "evals" / "datasets" / "agent_cases.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["case"]["case_id"] == case_id:
            return dict(row["case"])
    raise AssertionError(f"{case_id} not in agent_cases.jsonl")


def test_exact_match_without_documents_is_still_no_action(demo_runner: TriageRunner) -> None:
    proposal = demo_runner.start(_case("REM-C1005-EXACT"), "consistency-control")
    assert proposal["action"] == "no_action"


def test_invoice_in_another_currency_and_amount_blocks_no_action(
    demo_runner: TriageRunner, shared_data: Path
) -> None:
    pdf = (shared_data / "invoices" / "invoice2data" / "QualityHosting.pdf").read_bytes()
    case = _case("REM-C1005-EXACT")
    case["case_id"] = "REM-C1005-EXACT-DOC"
    case["documents"] = [{"name": "QualityHosting.pdf", "content_base64": base64.b64encode(pdf).decode()}]
    proposal = demo_runner.start(case, "consistency-doc")
    assert proposal["action"] != "no_action"
    assert "matches exactly" not in proposal["rationale"].split("Planner said:")[0]
    violations = proposal["guard"]["violations"]
    codes = {v["code"] for v in violations}
    assert codes == {"documents_disagree"}
    messages = " ".join(v["message"] for v in violations)
    assert "EUR" in messages and "GBP" in messages and "34.73" in messages
    assert proposal["guard"]["original_action"] == "no_action"
