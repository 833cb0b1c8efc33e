"""The learning loop closes (issue 13, item 8): a short stream through the real service path.

The fast tests pin the simulated analyst and the gate; the slow one runs ``benchmarks/learning_loop.py``
on 150 cases (retrain every 30) and checks that the loop retrains, gates (floors reported), runs what
passed in shadow beside the champion for a block and records their agreement, serves it, that
the proposals after a promotion are made with the learned calibrator and are better calibrated than
the hand-typed confidence before it, and that a straight-through policy is refitted each time.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "learning_loop.py"


@pytest.fixture(scope="module")
def loop() -> ModuleType:
    # registered before it runs: its dataclasses look their module up in sys.modules
    spec = importlib.util.spec_from_file_location("bench_learning_loop", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


IBAN_FIX = {
    "action": "repair",
    "changes": [{"field": "payment.creditor.account.iban", "new": "DE89370400440532013000"}],
}
PASSED = {"guard": {"passed": True}}


def test_the_analyst_approves_what_equals_the_gold(loop: ModuleType) -> None:
    verdict = loop.analyst_verdict({**IBAN_FIX, **PASSED}, IBAN_FIX, mistaken=False)
    assert verdict.kind == "approve" and not verdict.mistaken


def test_the_analyst_edits_a_wrong_repair_to_the_gold_changes(loop: ModuleType) -> None:
    wrong = {
        "action": "repair",
        "changes": [{"field": "payment.creditor.account.iban", "new": "GB33BUKB20201555555555"}],
    }
    verdict = loop.analyst_verdict({**wrong, **PASSED}, IBAN_FIX, mistaken=False)
    assert verdict.kind == "edit"
    assert verdict.changes == [{"field": "payment.creditor.account.iban", "new": "DE89370400440532013000"}]
    escalated = loop.analyst_verdict(
        {"action": "escalate", "changes": [], **PASSED}, IBAN_FIX, mistaken=False
    )
    assert escalated.kind == "edit"


def test_the_analyst_rejects_a_wrong_non_repair_naming_the_gold_action(loop: ModuleType) -> None:
    gold = {"action": "return", "changes": []}
    verdict = loop.analyst_verdict({**IBAN_FIX, **PASSED}, gold, mistaken=False)
    assert (verdict.kind, verdict.correct_action) == ("reject", "return")


def test_a_mistaken_analyst_decides_the_other_way(loop: ModuleType) -> None:
    approved_wrong = loop.analyst_verdict({**IBAN_FIX, **PASSED}, {"action": "return", "changes": []}, True)
    assert approved_wrong.kind == "approve" and approved_wrong.mistaken
    rejected_right = loop.analyst_verdict({**IBAN_FIX, **PASSED}, IBAN_FIX, mistaken=True)
    assert rejected_right.kind == "reject" and rejected_right.correct_action not in (None, "repair")
    # a failed guard cannot be approved, mistaken or not
    failed = loop.analyst_verdict({**IBAN_FIX, "guard": {"passed": False}}, {"action": "return"}, True)
    assert failed.kind == "reject"


def test_the_gate_keeps_a_champion_that_a_challenger_does_not_beat(loop: ModuleType) -> None:
    from evals.calibration import Sample, fit

    samples = [
        Sample({"x": float(i % 10), "noise": float((i * 7) % 3)}, int(i % 10 >= 4), "AC01", f"g{i}", "train")
        for i in range(200)
    ]
    good = fit(samples, version="good")
    assert loop.gate(good, good, samples)["passed"] is False  # no better than itself: not served
    coin = [Sample({**s.features, "_served": 0.5}, s.label, s.code, s.group, s.split) for s in samples]
    verdict = loop.gate(good, None, coin)  # against a constant 0.5 confidence
    assert verdict["passed"] is True and verdict["floors"] == {"ece": True, "auroc": True}
    assert verdict["challenger"]["brier"] < verdict["champion"]["brier"]


def test_the_gate_refuses_a_challenger_that_misses_the_floors(loop: ModuleType) -> None:
    from evals.calibration import Sample, fit

    # label noise on one in four rows: better than a coin, but AUROC far under 0.95
    samples = [
        Sample({"x": float(i % 10)}, int((i % 10 >= 5) != (i % 4 == 0)), "AC01", f"g{i}", "train")
        for i in range(400)
    ]
    coin = [Sample({**s.features, "_served": 0.5}, s.label, s.code, s.group, s.split) for s in samples]
    noisy = fit(samples, version="noisy")
    refused = loop.gate(noisy, None, coin)
    assert refused["passed"] is False and refused["floors"]["auroc"] is False
    assert any("AUROC" in reason and "floor" in reason for reason in refused["reasons"])
    reported = loop.gate(noisy, None, coin, enforce_floors=False)  # beats the coin: passes, floors shown
    assert reported["passed"] is True and reported["floors"]["auroc"] is False


@pytest.mark.slow
def test_the_loop_retrains_gates_serves_and_calibrates_better(loop: ModuleType) -> None:
    # 150 cases cannot reach the floors: they are reported, and the Brier gate promotes
    options = loop.LoopOptions(
        cases=150, every=30, error_rate=0.0, stp_target=0.25, stp_min_count=8, enforce_floors=False
    )
    result = loop.run_loop(options)

    assert sum(b.cases for b in result.blocks) == 150 and len(result.blocks) == 5
    for block in result.blocks:
        assert block.labelled >= 0.8 * block.cases  # nearly every case ends in a label
        assert block.ece is not None and 0.0 <= block.ece <= 1.0
        assert block.edit_rate is not None and block.reject_rate is not None
        assert 0.0 <= block.edit_rate + block.reject_rate <= 1.0
    assert result.retrains, "the loop never retrained"
    for retrain in result.retrains:
        assert retrain.challenger is not None and retrain.champion is not None
        assert all(math.isfinite(retrain.challenger[k]) for k in ("ece", "brier"))
    # each retrain put a new STP policy in force, fitted for the calibrator that serves
    versions = [r.stp_policy_version for r in result.retrains]
    assert versions == list(range(1, len(versions) + 1))

    assert all(set(r.floors) == {"ece", "auroc"} for r in result.retrains)
    promoted = [r for r in result.retrains if r.promoted]
    assert promoted, [r.reasons for r in result.retrains]
    first = promoted[0]
    # it ran in shadow beside the champion on the next block's live proposals before it served
    assert first.shadowed and first.shadow is not None and first.shadow["n"] > 0
    assert 0.0 <= first.shadow["mean_abs_difference"] <= 1.0 and set(first.shadow["same_side"]) == {
        "0.5",
        "0.8",
        "0.9",
    }
    assert [v["challenger"] for v in first.shadow["versions"]] == [first.serving]
    promoted_at = result.blocks[[b.end for b in result.blocks].index(first.end) + 1]
    assert promoted_at.calibrator != first.serving  # the shadow block was still served by the champion
    assert first.challenger["ece"] < first.champion["ece"]
    assert first.challenger["brier"] < first.champion["brier"]
    # the loop closes: later proposals are made by the calibrator learned from the decisions ...
    before = [b for b in result.blocks if b.calibrator == "none"]
    after = [b for b in result.blocks if b.calibrator == first.serving]
    assert before and after
    # ... and their confidence means more than the hand-typed one did
    mean = lambda blocks: sum(b.ece for b in blocks) / len(blocks)  # noqa: E731
    assert mean(after) < mean(before)
    # a gate that refuses keeps the champion serving
    for retrain in result.retrains:
        if not retrain.promoted:
            assert retrain.reasons
