"""The learning loop closes (issue 13, item 8): a short stream through the real service path.

The fast tests pin the simulated analyst and the gate; the slow one runs ``benchmarks/learning_loop.py``
on 120 cases (retrain every 40) and checks that the loop retrains, gates, serves what passed, that
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
    assert verdict["passed"] is True
    assert verdict["challenger"]["brier"] < verdict["champion"]["brier"]


@pytest.mark.slow
def test_the_loop_retrains_gates_serves_and_calibrates_better(loop: ModuleType) -> None:
    options = loop.LoopOptions(cases=120, every=40, error_rate=0.0, stp_target=0.25, stp_min_count=8)
    result = loop.run_loop(options)

    assert sum(b.cases for b in result.blocks) == 120 and len(result.blocks) == 3
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

    promoted = [r for r in result.retrains if r.promoted]
    assert promoted, [r.reasons for r in result.retrains]
    first = promoted[0]
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
