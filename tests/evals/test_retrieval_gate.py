"""The retriever's promotion gate: paired intervals on the same held-out questions."""

from __future__ import annotations

from typing import Any

import pytest

from evals.retrieval_eval import format_gate, model_gate, split_of
from tools.errors import ValidationError

IDS = [f"g-{i:03d}" for i in range(400)]
HELD = [i for i in IDS if split_of(i) == "held-out"]


def _result(per_question: dict[str, dict[str, float]]) -> dict[str, Any]:
    """An evaluate()-shaped result; the same metrics for dense and hybrid."""
    rows = []
    for qid in IDS:
        metrics = per_question.get(qid, {"recall@1": 0.0, "recall@5": 1.0, "mrr": 0.5})
        rows.append(
            {
                "id": qid,
                "split": split_of(qid),
                "modes": {m: {"metrics": metrics} for m in ("dense", "hybrid")},
            }
        )
    return {"rows": rows}


def _all(r1: float, r5: float, mrr: float, ids: list[str]) -> dict[str, dict[str, float]]:
    return {i: {"recall@1": r1, "recall@5": r5, "mrr": mrr} for i in ids}


def test_a_clear_gain_with_no_loss_passes() -> None:
    champion = _result({})
    better = _result(_all(1.0, 1.0, 1.0, HELD[: len(HELD) // 2]))
    gate = model_gate(champion, better)
    assert gate["passed"], gate["reasons"]
    assert gate["questions"] == len(HELD)
    assert gate["comparisons"]["hybrid.recall@1"]["ci95"][0] > 0
    assert "PASS" in format_gate(gate)


def test_any_loss_on_recall_at_5_fails_even_with_a_gain() -> None:
    champion = _result({})
    mixed = _result({**_all(1.0, 1.0, 1.0, HELD[:60]), **_all(0.0, 0.0, 0.0, HELD[60:62])})
    gate = model_gate(champion, mixed)
    assert not gate["passed"]
    assert any("recall@5 drops" in r for r in gate["reasons"])


def test_a_gain_inside_the_noise_fails() -> None:
    champion = _result({})
    # Three questions better, two worse on recall@1: the paired interval straddles 0.
    noisy = _result({**_all(1.0, 1.0, 0.5, HELD[:3]), **_all(0.0, 1.0, 0.5, HELD[3:5])})
    gate = model_gate(champion, noisy)
    assert not gate["passed"]
    assert gate["reasons"] == ["no significant gain on recall@1 or MRR (every paired 95% interval reaches 0)"]


def test_tuning_questions_never_decide() -> None:
    tuning = [i for i in IDS if split_of(i) == "tuning"]
    gate = model_gate(_result({}), _result(_all(1.0, 1.0, 1.0, tuning)))
    assert not gate["passed"] and gate["comparisons"]["dense.mrr"]["diff"] == 0


def test_different_question_sets_are_refused() -> None:
    other = _result({})
    other["rows"] = other["rows"][:-50]
    with pytest.raises(ValidationError, match="different held-out questions"):
        model_gate(_result({}), other)
