"""The GPU sweep's inputs and re-implementations are the product's (benchmarks/retriever_sweep_*.py).

The exported bundle rebuilds exactly the pairs `repairdesk model train retriever` hands to
``finetune`` (same anchors, positives, hard negatives and order), holds no held-out question, and
the sweep's standalone ranking, encoder and loss give what the served search, sentence-transformers
and tools/retrieval/finetune.py give.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import load_script
from tests.tools.retrieval.conftest import write_reference
from tests.tools.retrieval.corpus import write_corpus
from tests.tools.retrieval.model_questions import write_questions

ROOT = Path(__file__).resolve().parents[2]


class _Stop(Exception):
    pass


@pytest.fixture(scope="module")
def sweep() -> ModuleType:
    return load_script(ROOT / "benchmarks" / "retriever_sweep_gpu.py", "bench_retriever_sweep_gpu")


@pytest.fixture
def small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool_config: Any) -> dict[str, Any]:
    export = load_script(ROOT / "benchmarks" / "retriever_sweep_export.py", "bench_retriever_sweep_export")
    corpora = tmp_path / "corpora"
    dirs = [write_corpus(corpora / "procedures"), corpora / "reference"]
    write_reference(corpora / "reference")
    tool_config(data_dir=tmp_path / "var")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    questions = write_questions(tmp_path / "questions.jsonl")
    bundle = export.build_bundle(dirs, questions, folds=3, log=lambda _m: None)
    return {"bundle": bundle, "dirs": dirs, "questions": questions}


@pytest.mark.slow
def test_bundle_rebuilds_the_trainers_pairs(
    small: dict[str, Any], sweep: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import retriever_models as rm
    from evals.retrieval_eval import split_of
    from tools.retrieval import training_data as td

    bundle = small["bundle"]
    tuning, held_out = rm.split_questions(small["questions"])
    ids = {q["id"] for q in bundle["questions"]}
    assert ids == {q["id"] for q in tuning} and all(split_of(i) == "tuning" for i in ids)
    assert not ids & {q["id"] for q in held_out}
    assert {q["fold"] for q in bundle["questions"]} == {0, 1, 2}

    given: list[list[Any]] = []

    def finetune(_base: Path, pairs: list[Any], _out: Path, _cfg: Any, **_kw: Any) -> None:
        given.append(list(pairs))
        raise _Stop  # the pairs are all this test wants from the trainer

    monkeypatch.setattr("tools.retrieval.finetune.finetune", finetune)
    chunks = bundle["chunks"]
    for sources, name in ((["question"], "question"), (list(td.SOURCES), "all")):
        with pytest.raises(_Stop):
            rm.train(rm.TrainOptions(questions=small["questions"], corpus=small["dirs"], sources=sources))
        trained = [
            (p.anchor, p.positive, p.positive_id, p.negative, p.negative_id, p.source) for p in given[-1]
        ]
        rebuilt = [
            (
                anchor,
                chunks[positive]["text"],
                chunks[positive]["id"],
                chunks[negatives[0]]["text"] if negatives else None,
                chunks[negatives[0]]["id"] if negatives else None,
                source,
            )
            for anchor, positive, negatives, source in sweep.make_pairs(
                bundle, ids, rm.TrainOptions().question_repeat, name, 1
            )
        ]
        assert rebuilt == trained
        assert any(p[5] != "question" for p in trained) == (name == "all")
    # A fold trains on the other folds' questions only; more negatives extend the trainer's first.
    fold_pairs = sweep.make_pairs(
        bundle, {q["id"] for q in bundle["questions"] if q["fold"] != 0}, 1, "question", 3
    )
    held = {q["served"] for q in bundle["questions"] if q["fold"] == 0}
    assert fold_pairs and not {p[0] for p in fold_pairs} & held
    one = sweep.make_pairs(bundle, ids, 1, "question", 1)
    three = sweep.make_pairs(bundle, ids, 1, "question", 3)
    assert [p[2][:1] for p in three] == [p[2] for p in one]
    assert any(len(p[2]) > 1 for p in three)


@pytest.mark.slow
def test_mirror_encoder_and_loss_match_the_product(
    small: dict[str, Any], sweep: ModuleType, tmp_path: Path
) -> None:
    import json

    import torch
    from sentence_transformers import SentenceTransformer

    from app.cli.retriever_models import base_model_path
    from tools.retrieval.finetune import _batch_loss, anchor_positives
    from tools.retrieval.training_data import TrainingPair

    bundle = small["bundle"]
    # The ranking mirror, fed the served search's own dense list, gives the served top 10.
    for q in bundle["questions"]:
        dense = q["base"]["dense_ids"]
        assert [list(h) for h in sweep.hits_of(bundle["chunks"], dense)] == q["base"]["dense"]
        assert [list(h) for h in sweep.hybrid_hits(bundle, q, dense, 5, 0.3)] == q["base"]["hybrid"]

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    worker = sweep.Worker(str(path), str(base_model_path()), "cpu", 0, 2)
    model = SentenceTransformer(str(base_model_path()), device="cpu")
    texts = [c["text"] for c in bundle["chunks"][:6]] + [q["served"] for q in bundle["questions"][:4]]
    with torch.no_grad():
        mine = worker.embed_all(texts).numpy()
    theirs = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert abs(mine - theirs).max() < 1e-5

    pairs = sweep.make_pairs(bundle, {q["id"] for q in bundle["questions"]}, 2, "all", 1)[:12]
    chunks = bundle["chunks"]
    product = [
        TrainingPair(
            anchor=a,
            positive=chunks[p]["text"],
            positive_id=chunks[p]["id"],
            negative=chunks[n[0]]["text"] if n else None,
            negative_id=chunks[n[0]]["id"] if n else None,
            source=s,
        )
        for a, p, n, s in pairs
    ]
    model.max_seq_length = 128
    worker.model.eval()
    model.eval()
    with torch.no_grad():
        expected = float(_batch_loss(model, product, 20.0, anchor_positives(product)))
        got = float(worker.batch_loss(pairs, sweep.anchor_positives(pairs), 20.0))
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-5)
