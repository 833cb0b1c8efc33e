"""A thread interrupted in one process resumes in another after the first is killed (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from agents.runner import TriageRunner
from tests.agents.fixtures import GOOD_IBAN
from tools import config
from tools.errors import ValidationError
from tools.refdata.store import RefDataStore

ROOT = Path(__file__).resolve().parents[2]


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "REPAIRDESK_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _restart_cycle(fixture_store: RefDataStore, data_dir: Path, database_url: str | None) -> None:
    refdata_db = str(fixture_store.engine.url.database)
    env = _env(data_dir, database_url)
    worker = [sys.executable, "-m", "tests.agents.resume_worker"]
    first = subprocess.Popen(
        [*worker, "start", "restart-1", refdata_db], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout is not None
        line = first.stdout.readline()
        assert line, "the first process died before proposing"
        proposal = json.loads(line)
        assert proposal["status"] == "pending_review" and proposal["changes"][0]["new"] == GOOD_IBAN
    finally:
        first.kill()  # SIGKILL: no clean shutdown, only what the checkpointer already stored survives
        first.wait(timeout=30)
    second = subprocess.run(
        [*worker, "resume", "restart-1", refdata_db],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr[-2000:]
    out = json.loads(second.stdout.strip().splitlines()[-1])
    assert out["toolbox_built"] is False
    result = out["result"]
    assert result["status"] == "applied" and f":59:/{GOOD_IBAN}" in result["repaired_message"]
    assert result["proposal"]["status"] == "applied"
    # A third process (this one) sees the finished thread: same result, nothing applied or recorded twice.
    config.configure(replace(config.current(), data_dir=data_dir, explicit_database_url=database_url or ""))
    runner = TriageRunner()
    assert runner.resume("restart-1", {"decision": "approve", "user": "restart-test"}) == result
    # A different decision on a decided thread is refused: a reject never ends `applied`.
    with pytest.raises(ValidationError, match="already decided differently"):
        runner.resume("restart-1", {"decision": "reject"})
    state = runner.get_state("restart-1")
    assert state is not None and state["status"] == "applied"
    assert not (data_dir / "decisions").exists()  # labels come only from the service's database


@pytest.mark.slow
def test_resume_in_new_process_from_sqlite(fixture_store: RefDataStore, data_dir: Path) -> None:
    _restart_cycle(fixture_store, data_dir, None)
    assert (data_dir / "checkpoints.sqlite").is_file()


@pytest.mark.slow
@pytest.mark.postgres
def test_resume_in_new_process_from_postgres(
    fixture_store: RefDataStore, data_dir: Path, postgres_url: str
) -> None:
    _restart_cycle(fixture_store, data_dir, postgres_url)
    assert not (data_dir / "checkpoints.sqlite").exists()
