"""`repairdesk triage` asking a running server (REPAIRDESK_API_URL): the same output, the server's 4xx
reported like a local failure, nothing stored there, and local work when it is down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import create_engine
from typer.testing import CliRunner

from agents.runner import TriageRunner
from agents.toolbox import build_toolbox
from app.cli.main import cli
from app.main import create_app
from tests.agents.fixtures import GOOD_IBAN, REFDATA, ac01_case
from tests.app.conftest import StubTriage, add_tokens
from tests.app.live import free_port
from tools.refdata.loader import load
from tools.refdata.store import RefDataStore


@pytest.fixture
def refdata(tmp_path: Path) -> RefDataStore:
    store = RefDataStore(create_engine(f"sqlite:///{tmp_path / 'ref.db'}"))
    load(REFDATA, store)
    return store


@pytest.fixture
def server(
    make_settings: Any, stub_triage: StubTriage, refdata: RefDataStore
) -> Iterator[tuple[str, dict[str, dict[str, str]], Any]]:
    app = create_app(make_settings(), configure_logs=False)
    # The server's agent, over the test's reference data (no index: citations from the procedure).
    app.state.preview_runner = TriageRunner(
        model="playbook", checkpointer=InMemorySaver(), toolbox=build_toolbox(store=refdata, search=None)
    )
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", add_tokens(app), app
    finally:
        uv.should_exit = True
        thread.join(10)


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, token: str | None) -> None:
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path / "cli-var"))
    monkeypatch.setenv("REPAIRDESK_API_URL", url)
    if token:
        monkeypatch.setenv("REPAIRDESK_API_TOKEN", token)


def _no_local_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the command loaded the agent itself")

    monkeypatch.setattr("agents.runner.TriageRunner.__init__", refuse)


def test_triage_is_answered_by_the_server(
    server: tuple[str, dict[str, dict[str, str]], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, headers, app = server
    _env(monkeypatch, tmp_path, url, headers["service"]["Authorization"].split()[1])
    _no_local_agent(monkeypatch)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps([ac01_case(), ac01_case(case_id="T-2")]))
    bad.write_text(json.dumps({"exception_code": "AC01"}))
    result = CliRunner().invoke(cli, ["triage", str(good), str(bad), "--json"])
    assert result.exit_code == 1, result.output
    proposals = json.loads(result.stdout)
    assert [p["case_id"] for p in proposals] == ["T-AC01", "T-2"]
    assert all(p["changes"][0]["new"] == GOOD_IBAN and p["status"] == "pending_review" for p in proposals)
    assert f"{bad}: case: the case needs `message`" in result.stderr
    text = CliRunner().invoke(cli, ["triage", str(tmp_path / "good.json")])
    assert "AC01 -> repair" in text.stdout and GOOD_IBAN in text.stdout
    # nothing was stored on the server: no case, and the preview threads are gone
    queue = httpx.get(f"{url}/v1/exceptions", headers=headers["service"]).json()
    assert queue["items"] == []
    assert list(app.state.preview_runner.checkpointer.list(None)) == []


def test_a_bad_token_is_named_and_a_server_that_is_down_means_local_work(
    server: tuple[str, dict[str, dict[str, str]], Any],
    refdata: RefDataStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _, _ = server
    case = tmp_path / "case.json"
    case.write_text(json.dumps(ac01_case()))
    _env(monkeypatch, tmp_path, url, "not-a-token")
    refused = CliRunner().invoke(cli, ["triage", str(case)])
    assert refused.exit_code == 1 and "REPAIRDESK_API_TOKEN" in refused.stderr
    down = f"http://127.0.0.1:{free_port()}"
    _env(monkeypatch, tmp_path, down, None)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{refdata.engine.url.database}")
    monkeypatch.setattr("app.cli.context.CliContext.search_or_none", lambda self: None)
    local = CliRunner().invoke(cli, ["triage", str(case), "--json"])
    assert local.exit_code == 0, local.output
    assert f"note: {down} did not answer" in local.stderr and "working locally" in local.stderr
    assert json.loads(local.stdout)["changes"][0]["new"] == GOOD_IBAN
