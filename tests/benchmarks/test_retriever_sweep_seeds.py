"""The seed rerun's decision rule (benchmarks/retriever_sweep_seeds.py): paired seeds only, best mean
recall@5 (ties: MRR), a margin above the current recipe's seed spread, the 15-minute budget."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seeds() -> ModuleType:
    return load_script(ROOT / "benchmarks" / "retriever_sweep_seeds.py", "bench_retriever_sweep_seeds")


def row(
    name: str, seed: int, r5: float, mrr: float = 0.7, ranks: dict[str, int] | None = None
) -> dict[str, Any]:
    figures = {"recall@1": 0.5, "recall@5": r5, "mrr": mrr}
    return {
        "name": name,
        "seed": seed,
        "final": {"dense": figures, "hybrid_default": figures},
        "per_question": {q: [r, r] for q, r in (ranks or {"a": 1, "b": 3, "c": 0}).items()},
    }


def test_finalists_are_one_factor_changes_of_the_current_recipe(seeds: ModuleType) -> None:
    current = seeds.FINALISTS["current"]
    assert current == seeds.g.CURRENT
    for name, cfg in seeds.FINALISTS.items():
        assert sum(cfg[k] != current[k] for k in current) == (name != "current")
        assert seeds.EST_MINUTES[name] <= seeds.BUDGET_MINUTES
    assert seeds.FINALISTS["neg3"]["negatives"] == 3
    assert 13 in {s for r in seeds.ROUNDS for s in r}  # the sweep's own seed: a determinism check


def test_a_gain_inside_the_seed_spread_keeps_the_current_recipe(seeds: ModuleType) -> None:
    rows = [row("current", s, r5) for s, r5 in enumerate((0.84, 0.86, 0.85, 0.87))]
    rows += [row("neg3", s, r5 + 0.01) for s, r5 in enumerate((0.84, 0.86, 0.85, 0.87))]
    verdict = seeds.decide(rows)
    assert verdict["best"] == "neg3" and verdict["winner"] == "current"
    assert verdict["margin"] == pytest.approx(0.01) and verdict["spread"] > 0.01


def test_a_gain_above_the_spread_wins_unless_over_budget(
    seeds: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [row("current", s, r5) for s, r5 in enumerate((0.850, 0.852, 0.851))]
    rows += [row("neg3", s, 0.87) for s in range(3)] + [row("batch64", s, 0.86) for s in range(3)]
    rows.append(row("neg3", 99, 0.99))  # a seed the others lack does not count
    verdict = seeds.decide(rows)
    assert verdict["seeds"] == [0, 1, 2]
    assert verdict["winner"] == "neg3" and verdict["means"]["neg3"]["recall@5"] == pytest.approx(0.87)
    monkeypatch.setitem(seeds.EST_MINUTES, "neg3", 20.0)
    assert seeds.decide(rows)["winner"] == "current"


def test_ties_on_recall_go_to_mrr_and_the_table_prints_the_decision(seeds: ModuleType) -> None:
    rows = [row("current", s, 0.85 + 0.001 * s, 0.70) for s in range(3)]
    rows += [row("neg3", s, 0.90, 0.71, {"a": 1, "b": 2, "c": 0}) for s in range(3)]
    rows += [row("repeat5", s, 0.90, 0.72, {"a": 1, "b": 9, "c": 4}) for s in range(3)]
    assert seeds.decide(rows)["winner"] == "repeat5"
    text = seeds.table({"rows": rows, "elapsed": 1.0})
    assert "3 paired seeds" in text and text.rstrip().endswith(")")
    assert "decision: repeat5" in text
    # per-question paired scores: repeat5 moves question c into the top 5 and b out of it
    mean, low, high = seeds.question_bootstrap(
        {s: r for r in rows if r["name"] == "repeat5" for s in [r["seed"]]},
        {s: r for r in rows if r["name"] == "current" for s in [r["seed"]]},
        [0, 1, 2],
        "recall@5",
        draws=200,
    )
    assert mean == pytest.approx(0.0) and low <= 0.0 <= high


def test_too_few_paired_seeds_decide_nothing(seeds: ModuleType) -> None:
    assert seeds.decide([row("current", 0, 0.8), row("neg3", 0, 0.95)])["winner"] == "current"
