"""The corrections and adversarial suites run from `repairdesk eval run` and the gate catches a
regression introduced on purpose (an agent plugged in that always answers no_action)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents.runner import TriageRunner
from app.cli.main import cli
from app.settings import get_settings
from evals.base import SuiteOptions
from evals.runner import expand, skipped
from tests.app.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
CASE_ID = "ac01-c1001-typo"  # an agent case the playbook repairs on the demo reference data


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _cli(args: list[str], env: dict[str, str], code: int = 0) -> str:
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == code, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


def _decide_like_an_analyst(api: Api) -> dict[str, Any]:
    """Submit the agent case, edit the stub's proposal to the right repair, approve it twice."""
    rows = [json.loads(line) for line in (ROOT / "evals/datasets/agent_cases.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r["id"] == CASE_ID)
    case_id = api.submit(**row["case"])
    api.wait_status(case_id)
    changes = [c | {"evidence": ["analyst-asserted"]} for c in row["expected"]["changes"]]
    assert api.decide(case_id, "analyst", "edit", changes=changes).status_code == 200
    assert api.decide(case_id, "approver", "approve").status_code == 200
    assert api.decide(case_id, "approver2", "approve").json()["status"] == "applied"
    return row


def _no_action(self: TriageRunner, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
    return {
        "case_id": thread_id,
        "status": "pending_review",
        "exception_code": case.get("exception_code"),
        "action": "no_action",
        "changes": [],
        "confidence": 0.5,
        "guard": {"passed": True, "violations": []},
    }


@pytest.mark.slow
@pytest.mark.usefixtures("fresh_settings")
def test_suites_run_from_the_cli_and_the_gate_catches_a_regression(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _decide_like_an_analyst(api)
    data_dir = tmp_path / "data"
    env = {
        "REPAIRDESK_DATA_DIR": str(data_dir),
        "DATABASE_URL": api.app.state.services.settings.database_url,
    }
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(data_dir))  # the suites read the data directory too
    monkeypatch.chdir(tmp_path)  # `eval gate` writes its run under ./evals/runs
    _cli(["eval", "export-corrections"], env)
    out = _cli(["eval", "run", "--suite", "corrections", "--out", str(tmp_path / "run-c"), "--quiet"], env)
    assert "corrections.exact " in out
    document = json.loads((tmp_path / "run-c" / "metrics.json").read_text())
    assert document["metrics"]["corrections.exact"]["value"] == 1.0
    assert document["metrics"]["corrections.exact"]["n"] == 1
    segments = document["suites"]["corrections"]["segments"]
    assert segments["exception_code"] == {"AC01": segments["exception_code"]["AC01"]}
    assert segments["format"]["MT"]["n"] == 1 and segments["currency"]["EUR"]["exact"] == 1.0
    _cli(
        [
            "eval",
            "run",
            "--suite",
            "adversarial",
            "--limit",
            "3",
            "--out",
            str(tmp_path / "run-a"),
            "--quiet",
        ],
        env,
    )
    adversarial = json.loads((tmp_path / "run-a" / "metrics.json").read_text())["metrics"]
    assert adversarial["adversarial.no_leak"]["value"] == 1.0 and adversarial["adversarial.exact"]["n"] == 3

    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        json.dumps(
            {
                "suites": ["corrections", "adversarial"],
                "limit": 3,
                "metrics": {
                    "corrections.exact": {"value": 1.0, "tolerance": 0.0},
                    "adversarial.exact": {"value": 1.0, "tolerance": 0.0},
                    "adversarial.no_leak": {"value": 1.0, "tolerance": 0.0},
                },
            }
        )
    )
    _cli(["eval", "gate", "--baseline", str(baseline)], env)
    monkeypatch.setattr(TriageRunner, "start", _no_action)  # the regression, on purpose
    out = _cli(["eval", "gate", "--baseline", str(baseline)], env, code=1)
    assert "FAIL  corrections.exact" in out and "FAIL  adversarial.exact" in out


@pytest.mark.usefixtures("fresh_settings")
def test_a_tampered_export_or_none_at_all_is_a_clear_error(api: Api, tmp_path: Path) -> None:
    case_id = api.submit(case_id="EXC-T1")
    api.wait_status(case_id)
    assert (
        api.decide(case_id, "approver", "reject", reason_code="AC04", correct_action="return").status_code
        == 200
    )
    env = {
        "REPAIRDESK_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": api.app.state.services.settings.database_url,
    }
    run = ["eval", "run", "--suite", "corrections", "--out", str(tmp_path / "run"), "--quiet"]
    assert "export-corrections" in _cli(run, env, code=1)  # nothing exported yet
    root = tmp_path / "data" / "datasets" / "corrections"
    assert "corrections" not in expand("all", SuiteOptions(corrections=root))
    assert "no export" in (skipped("corrections", SuiteOptions(corrections=root)) or "")
    _cli(["eval", "export-corrections"], env)
    assert expand("all", SuiteOptions(corrections=root))[-2:] == ["adversarial", "corrections"]
    dataset = tmp_path / "data" / "datasets" / "corrections" / "v1" / "corrections.jsonl"
    record = json.loads(dataset.read_text())
    record["label"]["action"] = "repair"  # someone "fixes" a label by hand
    dataset.write_text(json.dumps(record, sort_keys=True) + "\n")
    assert "does not match its manifest" in _cli(run, env, code=1)
