"""`make test` runs the regression gate over a small subset of the real datasets."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import cli
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_fast_gate_passes_on_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> None:
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)  # the run directory goes under evals/runs/ here, not in the checkout
    result = CliRunner().invoke(cli, ["eval", "gate", "--baseline", str(ROOT / "evals/baselines/main.json")])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert result.output.count("ok ") == 5
