"""The student's layers and epochs are chosen inside the tuning half (benchmarks/retrieval_models.py).

The selection split never holds a held-out question, its val part is the one a teacher trained with
``--fusion-share N`` never saw (and the one benchmarks/retriever_tuning.py scores on), the student is
distilled without the val questions, and the rule obeys the floors and its tie-breaks.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "evals" / "datasets" / "retrieval.jsonl"


def _load(name: str, file: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load("bench_retrieval_models", "retrieval_models.py")


def test_selection_split_is_inside_the_tuning_half(bench: ModuleType) -> None:
    from app.cli.retriever_models import split_questions

    tuning, held_out = split_questions(QUESTIONS)
    fit, val = bench.selection_split(tuning, 3)
    fit_ids, val_ids = {q["id"] for q in fit}, {q["id"] for q in val}
    assert fit_ids.isdisjoint(val_ids) and fit_ids | val_ids == {q["id"] for q in tuning}
    assert not (fit_ids | val_ids) & {q["id"] for q in held_out}
    assert 0.2 < len(val) / len(tuning) < 0.45  # about a third, not all or none
    # The part `model train retriever --fusion-share 3` keeps out of training: a teacher trained so
    # has never seen a val question.
    from app.cli.retriever_models import split_by_share

    assert val_ids == {q["id"] for q in split_by_share(tuning, 3)[1]}
    with pytest.raises(ValueError):
        bench.selection_split(tuning, 1)


def test_student_texts_hold_only_the_questions_given(bench: ModuleType) -> None:
    chunks = [
        SimpleNamespace(embedding_text=lambda: "Recalls\nsend a camt.056", title="Recalls", heading="Send"),
        SimpleNamespace(embedding_text=lambda: "Fees\nOUR charges", title="Fees", heading=""),
    ]
    fit = [{"id": "a", "question": "how do I recall a payment"}]
    val = [{"id": "b", "question": "who pays OUR fees"}]
    texts = bench.student_texts(chunks, fit)
    assert "how do I recall a payment" in texts and "who pays OUR fees" not in texts
    assert texts == ["Recalls\nsend a camt.056", "Fees\nOUR charges", fit[0]["question"], "Recalls: Send"]
    assert "who pays OUR fees" in bench.student_texts(chunks, fit + val)


def _row(layers: int, epochs: int, kept: float, mrr: float, *, mb: float = 22.0, speed: float = 3.0) -> Any:
    return {
        "layers": layers, "epochs": epochs, "recall5_kept": kept, "mrr_kept": mrr,
        "size_mb": mb, "speedup": speed,
    }  # fmt: skip


def test_choose_student_floors_then_recall_mrr_layers_epochs(bench: ModuleType) -> None:
    choose = bench.choose_student
    # Best recall kept wins, even against a better MRR.
    assert choose([_row(5, 1, 0.95, 1.0), _row(6, 3, 0.97, 0.9)])["layers"] == 6
    # Equal recall: MRR decides; equal both: fewer layers, then fewer epochs.
    assert choose([_row(5, 1, 0.97, 0.9), _row(6, 1, 0.97, 0.95)])["layers"] == 6
    pick = choose([_row(6, 1, 0.97, 0.9), _row(5, 3, 0.97, 0.9), _row(5, 2, 0.97, 0.9)])
    assert (pick["layers"], pick["epochs"]) == (5, 2)
    # A candidate over 25 MB or under 2x faster is never chosen, whatever its recall.
    assert choose([_row(6, 3, 1.0, 1.0, mb=25.5), _row(5, 1, 0.9, 0.9)])["layers"] == 5
    assert choose([_row(6, 3, 1.0, 1.0, speed=1.9), _row(5, 2, 0.9, 0.9)])["epochs"] == 2
    assert choose([_row(6, 3, 1.0, 1.0, speed=1.5)]) is None
