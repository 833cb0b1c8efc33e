"""`repairdesk model train|promote|shadow|rollback calibrator` end to end on a fresh data directory.

Tiny runs (a few source cases of the perturbed set) train real challengers, register them in a real
MLflow store under the data directory, meet a gate that refuses (nothing changes), pass it (the
challenger serves), shadow the next challenger beside the champion on a live triage, and roll back.
The tiny held-out split cannot meet the production floors, so the passing gate here lowers them; the
paired comparison against the champion is the same code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli.main import cli

TINY = ("--limit", "3")


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _triage_one() -> dict[str, object]:
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.runner import TriageRunner
    from evals import datasets
    from evals.suites.agent import demo_clock, demo_store

    row = datasets.load("agent_cases")[0][0]
    runner = TriageRunner(model="playbook", checkpointer=InMemorySaver(), store=demo_store())
    with demo_clock():
        return runner.start(dict(row["case"]), thread_id="shadow-1")


@pytest.mark.slow
def test_train_register_gate_promote_shadow_and_roll_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import calibrator_models
    from tools.calibration import active_calibrator
    from tools.calibration.model import committed_artefact, deploy_dir

    data = tmp_path / "var"
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(data))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    trained = _run("model", "train", "calibrator", *TINY, "--json")
    assert trained.exit_code == 0, trained.output
    first = json.loads(trained.stdout)
    assert first["version"] == 1 and len(first["dataset"]["sha256"]) == 64
    assert (data / "mlflow" / "mlflow.db").is_file()

    # A gate the challenger cannot meet: refused, the committed artefact keeps serving.
    monkeypatch.setattr(calibrator_models, "AUROC_FLOOR", 1.01)
    refused = _run("model", "promote", "calibrator", *TINY)
    assert refused.exit_code == 1 and "gate refused" in refused.stderr
    assert not (deploy_dir() / "active.json").exists()
    assert active_calibrator().version == json.loads(committed_artefact().read_text())["version"]  # type: ignore[union-attr]

    monkeypatch.setattr(calibrator_models, "AUROC_FLOOR", 0.0)
    monkeypatch.setattr(calibrator_models, "ECE_FLOOR", 1.0)
    monkeypatch.setattr(calibrator_models, "BRIER_TOLERANCE", 1.0)
    promoted = _run("model", "promote", "calibrator", *TINY)
    assert promoted.exit_code == 0, promoted.output
    assert "calibrator v1 is the champion" in promoted.stdout and "paired Brier difference" in promoted.stdout
    assert active_calibrator().version == first["calibrator"]  # type: ignore[union-attr]

    second = json.loads(_run("model", "train", "calibrator", *TINY, "--json").stdout)
    assert second["version"] == 2
    assert _run("model", "shadow", "calibrator").exit_code == 0
    proposal = _triage_one()
    assert proposal["versions"]["calibrator"] == first["calibrator"]  # type: ignore[index]
    assert proposal["shadow"]["calibrator"]["version"] == second["calibrator"]  # type: ignore[index]
    assert _run("model", "shadow", "calibrator", "--off").exit_code == 0
    assert "shadow" not in _triage_one()

    assert _run("model", "promote", "calibrator", *TINY).exit_code == 0
    assert active_calibrator().version == second["calibrator"]  # type: ignore[union-attr]
    listed = json.loads(_run("model", "list", "--json").stdout)
    assert {(v["version"], tuple(v["aliases"])) for v in listed} == {(2, ("champion",)), (1, ())}
    assert all(v["dataset_hash"] and v["git_commit"] for v in listed)

    back = _run("model", "rollback", "calibrator")
    assert back.exit_code == 0 and "calibrator v1 is the champion again" in back.stdout
    assert active_calibrator().version == first["calibrator"]  # type: ignore[union-attr]
    nothing = _run("model", "rollback", "calibrator")
    assert nothing.exit_code == 1 and "no previous champion" in nothing.stderr
