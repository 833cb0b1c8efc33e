"""Floors on the held-out split of the perturbed set (the committed calibrator, the current agent).

Wrong repairs (a change outside the gold ones that survives the guard) ≤ 1%; calibrated confidence
ECE ≤ 0.05 and AUROC ≥ 0.95. The split is by source case, so none of these cases' perturbations
trained the calibrator.
"""

from __future__ import annotations

from typing import Any

import pytest

from evals.base import SuiteOptions, calibration_summary
from evals.generators import perturbed
from evals.suites.perturbed import score


@pytest.fixture(scope="module")
def held_out() -> list[dict[str, Any]]:
    rows, _ = perturbed.load("held-out")
    return score(rows, SuiteOptions(progress=False))


@pytest.mark.slow
def test_wrong_repairs_stay_under_one_percent(held_out: list[dict[str, Any]]) -> None:
    wrong = [r["id"] for r in held_out if r["metrics"]["wrong_repair"]]
    assert len(held_out) >= 300
    assert len(wrong) / len(held_out) <= 0.01, wrong


@pytest.mark.slow
def test_confidence_is_calibrated_and_ranks(held_out: list[dict[str, Any]]) -> None:
    summary = calibration_summary(held_out)
    assert summary["ece"] <= 0.05, summary["ece"]
    assert summary["auroc"] >= 0.95, summary["auroc"]
