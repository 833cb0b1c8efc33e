"""Floors on the held-out split of the perturbed set (the committed calibrator, the current agent).

The issue's floors: wrong repairs (a change outside the gold ones that survives the guard) ≤ 1%,
calibrated confidence ECE ≤ 0.05 and AUROC ≥ 0.95. The split is by source case, so none of these
cases' perturbations trained the calibrator.

Not met yet (measured 2026-12-04, docs/confidence.md): those floors are asserted as written and
marked ``xfail(strict=True)``, so the day a change meets one, its test XPASSes and fails the run
until the mark is removed. What the work reached is asserted as a regression guard beside them.
"""

from __future__ import annotations

from typing import Any

import pytest

from evals.base import SuiteOptions, calibration_summary
from evals.generators import perturbed
from evals.suites.perturbed import score

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def held_out() -> list[dict[str, Any]]:
    rows, _ = perturbed.load("held-out")
    assert len(rows) >= 300
    return score(rows, SuiteOptions(progress=False))


def wrong_repair_rate(results: list[dict[str, Any]]) -> float:
    return sum(r["metrics"]["wrong_repair"] for r in results) / len(results)


def test_wrong_repairs_stay_far_below_the_unchecked_agent(held_out: list[dict[str, Any]]) -> None:
    # Before the consistency check: 14.6% on this split (18.7% on wrong-code rows); reached 3.7%.
    assert wrong_repair_rate(held_out) <= 0.04


def test_no_confident_wrong_repair(held_out: list[dict[str, Any]]) -> None:
    # The failure: "a confident, guard-passing wrong repair" (before: all 59 here at 0.89-0.91).
    confident = [r["id"] for r in held_out if r["metrics"]["wrong_repair"] and r["confidence"] >= 0.8]
    assert not confident


def test_calibration_reached(held_out: list[dict[str, Any]]) -> None:
    # reached with the second opinion's features (monotone logistic): ECE 0.099, Brier 0.115, AUROC
    # 0.898 (ECE bound a point above it: 10 bins over 31 source cases); the trees before them: 0.083,
    # 0.134, 0.884; the first logistic calibrator: 0.079, 0.142, 0.854
    summary = calibration_summary(held_out)
    assert summary["ece"] <= 0.11 and summary["auroc"] >= 0.89 and summary["brier"] <= 0.12, summary


@pytest.mark.xfail(
    strict=True, reason="measured 3.7% on held-out: address codes sent to cases lacking the address"
)
def test_floor_wrong_repairs_at_most_one_percent(held_out: list[dict[str, Any]]) -> None:
    assert wrong_repair_rate(held_out) <= 0.01


@pytest.mark.xfail(strict=True, reason="measured ECE 0.099 on held-out (docs/confidence.md)")
def test_floor_ece(held_out: list[dict[str, Any]]) -> None:
    assert calibration_summary(held_out)["ece"] <= 0.05


@pytest.mark.xfail(strict=True, reason="measured AUROC 0.898 on held-out (docs/confidence.md)")
def test_floor_auroc(held_out: list[dict[str, Any]]) -> None:
    assert calibration_summary(held_out)["auroc"] >= 0.95
