"""Extract once: the worker hands the agent the extractions it stored, and parses nothing twice."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.agents.fixtures import mt103
from tests.app.conftest import Api, StubTriage
from tests.hostile_documents import giant_page


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    return sqlite_db_url  # SQLite only: extraction does not depend on the database


class Capturing(StubTriage):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, Any]] = []

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        self.inputs.append(case)
        return super().start(case, thread_id)


@pytest.fixture
def stub_triage() -> Capturing:
    """The triage backend of this module's apps (``api``): it keeps what it was given."""
    return Capturing()


def test_the_agent_gets_the_stored_extractions_and_the_payment_parsed_at_acceptance(
    api: Api, stub_triage: Capturing, monkeypatch: pytest.MonkeyPatch
) -> None:
    capturing = stub_triage
    calls: list[str] = []
    from tools.documents import sandbox

    real = sandbox.extract_sandboxed

    def counted(data: bytes, source: str, **kwargs: Any) -> list[dict[str, Any]]:
        calls.append(source)
        return real(data, source, **kwargs)

    monkeypatch.setattr(sandbox, "extract_sandboxed", counted)
    text_doc = {
        "name": "advice.txt",
        "content_base64": base64.b64encode(b"Remittance advice\nINV-1 100.00").decode(),
    }
    bad_doc = {"name": "giant.pdf", "content_base64": base64.b64encode(giant_page()).decode()}
    first = api.submit(case_id="EXC-ONCE-1", message=mt103(ref="ONCE"), documents=[text_doc, bad_doc])
    second = api.submit(case_id="EXC-ONCE-2", message=mt103(ref="ONCE2"), documents=[text_doc])
    api.wait_status(first)
    api.wait_status(second)
    assert sorted(calls) == ["advice.txt", "giant.pdf"]  # the same bytes in two cases: extracted once
    carried = {case["case_id"]: case["intake"] for case in capturing.inputs}
    assert carried["EXC-ONCE-1"]["payment"]["reference"] == "ONCE"
    assert carried["EXC-ONCE-1"]["documents"] == carried["EXC-ONCE-2"]["documents"]
    assert "page-size limit" in carried["EXC-ONCE-1"]["document_errors"][0]["reason"]
    view = api.view(first)
    assert "page-size limit" in view["documents"][1]["error"]
