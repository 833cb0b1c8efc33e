"""The gate catches a planted regression; reports carry valid PNG plots; compare pairs samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from app.cli.main import cli
from evals.base import SuiteOptions, SuiteResult, write_run
from evals.compare import compare_runs
from evals.gate import check


def _rows(hit_rate: float, n: int = 40) -> list[dict]:
    hits = int(hit_rate * n)
    return [
        {
            "id": f"s{i}",
            "latency_ms": 10.0 + i,
            "confidence": 0.8,
            "correct": i < hits,
            "expected_code": "AC01" if i % 2 else "AC04",
            "predicted_code": "AC01" if i % 3 else "AC04",
            "metrics": {"exact": float(i < hits), "unsafe_rate": 0.0},
        }
        for i in range(n)
    ]


@pytest.fixture()
def runs(tmp_path: Path) -> tuple[Path, Path]:
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_run([SuiteResult("agent", _rows(0.95))], good, SuiteOptions(progress=False))
    write_run([SuiteResult("agent", _rows(0.70))], bad, SuiteOptions(progress=False))
    return good, bad


def test_report_has_valid_pngs(runs: tuple[Path, Path]) -> None:
    good, _ = runs
    html = (good / "report.html").read_text()
    # bars, confusion, calibration, calibration per code, latency
    assert html.count("data:image/png;base64,") == 5
    assert "<th>ECE</th><th>Brier</th><th>AUROC</th>" in html  # overall and per-code calibration table
    names = ("metrics", "confusion", "calibration", "calibration_by_code", "latency")
    for name in (f"agent_{n}.png" for n in names):
        with Image.open(good / name) as image:
            image.verify()
            assert image.format == "PNG"
    metrics = json.loads((good / "metrics.json").read_text())
    assert metrics["metrics"]["agent.exact"]["n"] == 40
    assert len((good / "samples.jsonl").read_text().splitlines()) == 40


def test_gate_fails_on_planted_regression(runs: tuple[Path, Path], tmp_path: Path) -> None:
    good, bad = runs
    baseline = {
        "metrics": {
            "agent.exact": {"value": 0.95, "tolerance": 0.05},
            "agent.unsafe_rate": {"value": 0.0, "tolerance": 0.0, "higher_is_better": False},
        }
    }
    observed_good = json.loads((good / "metrics.json").read_text())["metrics"]
    observed_bad = json.loads((bad / "metrics.json").read_text())["metrics"]
    assert check(baseline, observed_good) == []
    failures = check(baseline, observed_bad)
    assert [f.metric for f in failures] == ["agent.exact"]

    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline))
    runner = CliRunner()
    assert runner.invoke(cli, ["eval", "gate", "--baseline", str(path), "--run", str(good)]).exit_code == 0
    result = runner.invoke(cli, ["eval", "gate", "--baseline", str(path), "--run", str(bad)])
    assert result.exit_code == 1
    assert "agent.exact" in result.output


def test_gate_rejects_bad_baseline(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("{not json")
    result = CliRunner().invoke(cli, ["eval", "gate", "--baseline", str(path), "--run", str(tmp_path)])
    assert result.exit_code == 1
    assert "baseline" in result.output


def test_compare_pairs_samples(runs: tuple[Path, Path]) -> None:
    good, bad = runs
    result = compare_runs(good, bad)
    assert result["paired_samples"] == 40
    exact = result["metrics"]["agent.exact"]
    assert exact["difference"] == pytest.approx(0.70 - 0.95)
    assert exact["verdict"] == "A better"
    assert result["metrics"]["agent.unsafe_rate"]["verdict"] == "no significant difference"
