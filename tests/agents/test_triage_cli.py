"""`repairdesk triage`: proposals on stdout, bad inputs named on stderr with exit 1, bad model exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import cli
from tests.agents.fixtures import GOOD_IBAN, ac01_case
from tools.refdata.store import RefDataStore


@pytest.fixture
def cli_env(fixture_store: RefDataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fixture_store.engine.url.database}")
    # Citations fall back to the procedure's own section: no embedding model or index build in this test.
    monkeypatch.setattr("app.cli.context.CliContext.search_or_none", lambda self: None)


def test_triage_json_and_text(cli_env: None, tmp_path: Path) -> None:
    good = tmp_path / "case.json"
    good.write_text(json.dumps(ac01_case()))
    result = CliRunner().invoke(cli, ["triage", str(good), "--json"])
    assert result.exit_code == 0, result.output
    proposal = json.loads(result.stdout)
    assert proposal["status"] == "pending_review" and proposal["changes"][0]["new"] == GOOD_IBAN
    assert proposal["straight_through"] is False  # CONTRACT "Additions": on every proposal
    text = CliRunner().invoke(cli, ["triage", str(good)])
    assert text.exit_code == 0 and "AC01 -> repair" in text.stdout and GOOD_IBAN in text.stdout


def test_triage_names_bad_inputs_and_goes_on(cli_env: None, tmp_path: Path) -> None:
    good, bad, broken = tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "broken.json"
    good.write_text(json.dumps([ac01_case(), ac01_case(case_id="T-2")]))
    bad.write_text(json.dumps({"exception_code": "AC01"}))
    broken.write_text("{not json")
    result = CliRunner().invoke(
        cli, ["triage", str(good), str(bad), str(broken), str(tmp_path / "none.json"), "--json"]
    )
    assert result.exit_code == 1
    proposals = json.loads(result.stdout)
    assert [p["case_id"] for p in proposals] == ["T-AC01", "T-2"]
    assert f"{bad}: the case needs `message`" in result.stderr
    assert f"{broken}: not JSON" in result.stderr and "none.json: no such file" in result.stderr
    assert "Traceback" not in result.output


def test_triage_bad_model_is_a_usage_error(cli_env: None, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(ac01_case()))
    result = CliRunner().invoke(cli, ["triage", str(case), "--model", "gpt:4"])
    assert result.exit_code == 2 and "--model" in result.stderr
