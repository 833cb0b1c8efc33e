"""`repairdesk eval run --suite stp`: a policy fitted on one half, the share and the bound measured on the
other, printed per code/action and overall. The agent is replaced by recorded proposals (the suite's
arithmetic is under test here; the agent's own quality is the agent suite's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents.contract import Proposal
from app.cli.main import cli
from evals.base import SuiteOptions
from evals.retrieval_eval import split_of
from evals.suites import stp as stp_suite

GUARD = {"passed": True, "violations": []}


def _point(n: int, *, confidence: float, wrong: bool, guard: bool = True) -> dict[str, Any]:
    proposal = {
        "exception_code": "AC01",
        "action": "repair",
        "changes": [{"field": "payment.creditor.account.iban", "new": "X"}],
        "confidence": confidence,
        "guard": GUARD if guard else {"passed": False, "violations": ["v"]},
    }
    return {
        "id": f"P-{n}",
        "exception_code": "AC01",
        "action": "repair",
        "confidence": confidence,
        "wrong": wrong,
        "proposal": proposal,
    }


def test_the_policy_is_fitted_on_one_half_and_measured_on_the_other() -> None:
    points = [_point(n, confidence=0.95, wrong=False) for n in range(1000)]
    points += [_point(n, confidence=0.6, wrong=True) for n in range(1000, 1100)]
    points += [_point(n, confidence=0.99, wrong=False, guard=False) for n in range(1100, 1150)]
    rows, extras = stp_suite.evaluate(points)
    fitting = [p for p in points if split_of(p["id"]) == "tuning"]
    assert extras["split"] == {"fitting": len(fitting), "held_out": len(points) - len(fitting)}
    (rule,) = extras["policy"]["rules"]
    assert rule["eligible"] and rule["threshold"] == 0.95 and rule["upper_bound"] <= 0.01
    assert {r["id"] for r in rows}.isdisjoint(p["id"] for p in fitting)
    applied = [r for r in rows if r["metrics"]["straight_through"]]
    # exactly the held-out clean cases at 0.95 go through: not the wrong ones (under the threshold),
    # not the guard-failed ones (over it, but the service's rule refuses a failed guard)
    assert {r["id"] for r in applied} == {r["id"] for r in rows if r["confidence"] == 0.95}
    assert all("guard" in r["reason"] for r in rows if r["confidence"] == 0.99)
    held = extras["held_out"]
    assert held["applied"] == len(applied) and held["wrong"] == 0
    assert held["share"] == pytest.approx(len(applied) / len(rows))
    assert 0 < held["upper_bound"] < 0.01


def test_eval_run_prints_the_share_and_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def recorded(rows: list[dict[str, Any]], options: SuiteOptions, **_: Any) -> list[Any]:
        # every proposal exactly as expected, confident and guard-passed: only the counts hold it back
        return [
            (
                row,
                Proposal.model_validate(
                    {
                        **row["expected"],
                        # a guard-passed change carries its evidence (the contract's invariant)
                        "changes": [{**c, "evidence": ["ssi:x"]} for c in row["expected"].get("changes", [])],
                        "exception_code": row["case"].get("exception_code"),
                        "confidence": 0.97,
                        "guard": GUARD,
                    }
                ),
                1.0,
            )
            for row in rows
        ]

    monkeypatch.setattr(stp_suite, "run_cases", recorded)
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path / "var"))
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["eval", "run", "--suite", "stp", "--out", str(out), "--quiet", "--limit", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "stp.straight_through" in result.output
    assert "code/action" in result.output and "bound95" in result.output
    assert "held-out half overall: 0 of" in result.output  # 10 cases: far fewer than the minimum count
    assert "fewer than the minimum 300" in json.dumps(json.loads((out / "metrics.json").read_text()))
