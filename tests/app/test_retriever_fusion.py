"""Fusion weights from out-of-fold models: no fold's model sees the questions it ranks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from app.cli.retriever_fusion import crossfit_fusion, fold_of, pooled
from evals.retrieval_eval import FUSION_GRID
from tests.tools.retrieval.corpus import write_corpus
from tests.tools.retrieval.model_questions import write_questions
from tools.retrieval import training_data as td
from tools.retrieval.chunking import chunk_procedure
from tools.retrieval.finetune import FinetuneConfig
from tools.retrieval.index_store import load_corpus


def test_folds_are_fixed_by_the_id_and_all_used() -> None:
    ids = [f"r-{n:03d}" for n in range(200)]
    assert [fold_of(i, 4) for i in ids] == [fold_of(i, 4) for i in ids]
    sizes = [sum(1 for i in ids if fold_of(i, 4) == f) for f in range(4)]
    assert all(30 <= size <= 70 for size in sizes), sizes


def test_pooled_tables_weigh_each_fold_by_its_questions() -> None:
    one = [{"rrf_k": 5, "dense": 0.3, "recall@1": 1.0, "recall@5": 1.0, "mrr": 1.0}]
    three = [{"rrf_k": 5, "dense": 0.3, "recall@1": 0.0, "recall@5": 0.5, "mrr": 0.25}]
    [row] = pooled([(1, one), (3, three)])
    assert row == {"rrf_k": 5, "dense": 0.3, "recall@1": 0.25, "recall@5": 0.625, "mrr": 0.4375}


def test_each_fold_is_ranked_by_a_model_trained_without_it(tmp_path: Path) -> None:
    procedures = write_corpus(tmp_path / "procedures")
    path = write_questions(tmp_path / "questions.jsonl")
    questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for q in questions:
        q["gold"] = [(g["doc_id"], g["section"]) for g in q["gold"]]
    chunks = [c for p in load_corpus([procedures]) for c in chunk_procedure(p)]
    trained_on: list[set[str]] = []

    def pairs_for(fit: Sequence[dict[str, Any]]) -> list[td.TrainingPair]:
        trained_on.append({q["id"] for q in fit})
        labelled = [td.LabelledQuestion(id=q["id"], question=q["question"], gold=q["gold"]) for q in fit]
        return td.question_pairs(labelled, chunks)

    from app.cli.retriever_models import base_model_path
    from tools.retrieval.embeddings import load_embedder

    cached = load_embedder.cache_info().currsize
    lists: dict[str, tuple[list[str], list[float]]] = {}
    best, table = crossfit_fusion(
        questions,
        pairs_for,
        FinetuneConfig(layers=1, max_steps=2, batch_size=8),
        [procedures],
        tmp_path / "folds",
        folds=2,
        base=base_model_path(),
        dense_lists=lists,
    )

    everyone = {q["id"] for q in questions}
    assert load_embedder.cache_info().currsize == cached  # the fold models are let go, not cached
    # Every question's dense list, from its fold's model, over every chunk of the small corpus.
    assert set(lists) == {q["id"] for q in questions}
    assert all(sorted(ids) == sorted(c.chunk_id for c in chunks) for ids, _ in lists.values())
    assert len(trained_on) == 2
    for fold, fit in enumerate(trained_on):
        ranked = {q["id"] for q in questions if fold_of(q["id"], 2) == fold}
        assert ranked and fit == everyone - ranked  # trained on the other fold only
    assert len(table) == len(FUSION_GRID["rrf_k"]) * len(FUSION_GRID["dense"])
    assert best in [{"rrf_k": row["rrf_k"], "dense": row["dense"]} for row in table]
    top = max(table, key=lambda r: (round(r["recall@5"], 6), round(r["mrr"], 6), round(r["recall@1"], 6)))
    assert best == {"rrf_k": float(top["rrf_k"]), "dense": float(top["dense"])}


def test_folds_and_a_share_together_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from app.cli.main import cli

    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(
        cli, ["model", "train", "retriever", "--fusion-folds", "4", "--fusion-share", "4", "--max-steps", "1"]
    )
    assert result.exit_code == 1
    assert "fusion: choose --fusion-folds or --fusion-share, not both" in result.stderr
