"""The service with the real agent (playbook model): a demo case is triaged in the background,
approved by a checker, and the agent's repaired result is stored."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import Api, add_tokens
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture
def real_api(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch, tool_config: Callable[..., Any]
) -> Iterator[Api]:
    data = tmp_path / "var"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    tool_config(data_dir=data, explicit_database_url="")  # the agent's search index and decisions go here
    data.mkdir()
    shutil.copyfile(sqlite_template, data / "repairdesk.db")
    settings = Settings(data_dir=data, workers=1, job_poll_seconds=0.05, migrate_on_startup=False)
    app = create_app(settings, configure_logs=False)
    from tools.db import get_engine
    from tools.refdata.loader import load_file
    from tools.refdata.store import RefDataStore

    load_file(ROOT / "corpora" / "demo" / "refdata.json", RefDataStore(get_engine(settings.database_url)))
    with TestClient(app) as client:
        yield Api(app, client, add_tokens(app))


def test_demo_case_through_the_real_agent(real_api: Api) -> None:
    line = (ROOT / "evals" / "datasets" / "agent_cases.jsonl").read_text().splitlines()[0]
    row = json.loads(line)
    case_id = real_api.submit(**row["case"])
    view = real_api.wait_status(case_id, timeout=240)
    assert view["action"] == row["expected"]["action"]
    assert [(c["field"], c["new"]) for c in view["changes"]] == [
        (c["field"], c["new"]) for c in row["expected"]["changes"]
    ]
    assert view["guard"]["passed"] is True
    refused = real_api.decide(case_id, "alice-analyst", "approve")
    assert refused.status_code == 403
    approved = real_api.decide(case_id, "approver", "approve", comment="SSI matches")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] in {"approved", "applied"}
    assert approved.json()["final_changes"][0]["new"] == row["expected"]["changes"][0]["new"]
    again = real_api.decide(case_id, "approver2", "approve")
    assert again.status_code == 409
