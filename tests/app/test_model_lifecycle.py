"""`repairdesk model train|promote|rollback|list` end to end on a fresh data directory.

A tiny retriever (the shipped MiniLM cut to one layer, a few steps) is trained on the tuning half of
questions over the small test corpus, registered in a real MLflow store (SQLite in the data
directory), refused by the gate against the shipped model, promoted over a deliberately weak
champion, and rolled back twice: the serving model and its index follow every step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from app.cli.main import cli
from tests.tools.retrieval.conftest import write_reference
from tests.tools.retrieval.corpus import write_corpus
from tests.tools.retrieval.model_questions import write_questions


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _weak_model(folder: Path) -> Path:
    """A one-layer MiniLM with random weights and one shared word vector: its dense ranking ignores the
    words (random word vectors alone would still act as a random projection of the bag of words)."""
    import torch
    from sentence_transformers import SentenceTransformer

    from app.cli.retriever_models import base_model_path
    from tools.retrieval.finetune import truncate_layers

    model = SentenceTransformer(str(base_model_path()), device="cpu")
    truncate_layers(model[0].auto_model, 1)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.ndim >= 2:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.02)
        auto: Any = model[0].auto_model  # torch types module attributes as Tensor | Module
        words = auto.embeddings.word_embeddings.weight
        words.copy_(words[:1].expand_as(words))
    model.save(str(folder))
    return folder


@pytest.mark.slow
def test_train_register_gate_promote_and_roll_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.registry import ModelRegistry
    from tools.retrieval.active_model import active_model, index_dir_for
    from tools.retrieval.search import FollowingSearch, open_search

    data = tmp_path / "var"
    corpora = tmp_path / "corpora"
    procedures = write_corpus(corpora / "procedures")
    write_reference(corpora / "reference")
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(data))
    monkeypatch.setenv("REPAIRDESK_CORPORA_DIR", str(corpora))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    scope = [
        "--corpus", str(procedures), "--corpus", str(corpora / "reference"),
        "--questions", str(write_questions(tmp_path / "questions.jsonl")),
    ]  # fmt: skip

    # Train: v1 is the shipped base model (registered on first use, champion), v2 the challenger.
    trained = _run(
        "model", "train", "retriever", "--layers", "1", "--max-steps", "6", "--batch-size", "8",
        "--json", *scope,
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    result = json.loads(trained.stdout)
    version = result["version"]
    assert version["version"] == 2 and version["aliases"] == ["challenger"]
    assert version["dataset_hash"] == result["dataset"]["hash"] and len(version["dataset_hash"]) == 64
    assert result["dataset"]["by_source"]["question"] > 0 and result["dataset"]["with_negative"] > 0
    assert version["params"]["layers"] == "1" and version["git_commit"]
    assert "heldout.dense.recall_at_5" in version["metrics"] and result["training"]["steps"] == 6
    assert version["source"].startswith(data.resolve().as_uri())  # model files in the data dir
    assert (data / "mlflow" / "mlflow.db").is_file()

    # The gate refuses a one-layer model against the shipped one: nothing changes.
    refused = _run("model", "promote", "retriever", *scope)
    assert refused.exit_code == 1, refused.output
    assert "gate refused; v1 stays champion" in refused.stderr
    assert active_model() is None

    # A weak champion (set up directly: it never went through the gate) that the tiny model beats.
    registry = ModelRegistry()
    weak = registry.log_version(
        "retriever", _weak_model(tmp_path / "weak"), params={}, metrics={}, dataset_hash="none"
    )
    registry.promote("retriever", weak.version)
    from app.cli.retriever_models import deploy

    deploy(registry, registry.get("retriever", weak.version), [procedures, corpora / "reference"])
    assert active_model().version == 3  # type: ignore[union-attr]
    weak_index = index_dir_for(active_model().name) / "manifest.json"  # type: ignore[union-attr]
    built_at = weak_index.stat().st_mtime_ns
    # What a running service holds (app/api/state.py): it must follow the CLI's promotions.
    following = FollowingSearch(check_seconds=0.0)
    assert following.model_name == active_model().name  # type: ignore[union-attr]

    promoted = _run("model", "promote", "retriever", "--version", "2", *scope)
    assert promoted.exit_code == 0, promoted.output
    assert "PASS" in promoted.stdout and "retriever v2 is the champion (was v3)" in promoted.stdout
    serving = active_model()
    assert serving is not None and serving.version == 2
    # Trained at 128 word pieces, served at the base model's 256: the index embeds whole chunks.
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(serving.path, device="cpu").max_seq_length == 256
    # The fusion's out-of-fold dense lists travel with the model, for the re-ranker's fit.
    from app.cli.reranker_models import served_dense_lists
    from app.cli.retriever_models import split_questions

    lists = served_dense_lists(serving.name)
    tuning, _held = split_questions(Path(scope[-1]))
    assert lists is not None and set(lists) == {q["id"] for q in tuning}
    assert served_dense_lists("another-model") is None
    # Queries now go through v2's own index (keyed by its version) and v2's model.
    search = open_search()
    assert search.model_name == serving.name
    assert (index_dir_for(serving.name) / "manifest.json").is_file()
    assert search.search("claim a refund of deducted fees", k=3, mode="dense")
    assert following.search("claim a refund of deducted fees", k=3, mode="dense")
    assert following.model_name == serving.name and following.reloads == 1  # no restart needed

    listed = json.loads(_run("model", "list", "--json").stdout)
    assert {(v["version"], tuple(v["aliases"])) for v in listed} == {(3, ()), (2, ("champion",)), (1, ())}

    # Roll back: the weak model and its index serve again (the index was kept: not rebuilt).
    back = _run("model", "rollback", "retriever")
    assert back.exit_code == 0 and "retriever v3 is the champion again" in back.stdout
    assert active_model().version == 3  # type: ignore[union-attr]
    assert weak_index.stat().st_mtime_ns == built_at
    assert following.model_name == active_model().name  # type: ignore[union-attr]
    # Again: the shipped model, the classic index folder, no pointer.
    assert _run("model", "rollback", "retriever").exit_code == 0
    assert active_model() is None
    assert following.model_name == open_search().model_name and following.reloads == 3
    nothing = _run("model", "rollback", "retriever")
    assert nothing.exit_code == 1 and "no previous champion" in nothing.stderr


def test_models_without_a_trainer_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path / "var"))
    for command in ("train", "promote"):
        result = _run("model", command, "narrative")
        assert result.exit_code == 1
        assert "narrative: no trainer or gate for this model" in result.stderr
    bad = _run("model", "train", "retriever", "--method", "qlora")
    assert bad.exit_code == 1 and "--method: must be full or lora" in bad.stderr
    for sources in ("question,recipes", ","):
        refused = _run("model", "train", "retriever", "--sources", sources)
        assert refused.exit_code == 1 and "--sources: unknown or none" in refused.stderr
        assert "recipes" in refused.stderr or sources == ","


def test_the_cli_trains_the_library_recipe_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`model train retriever` without options and `TrainOptions()` are one recipe (the one chosen
    on the tuning half): a default changed in one place only would train two different models."""
    import app.cli.retriever_models as retriever_models
    from tools.errors import RepairDeskError

    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path / "var"))
    seen: list[retriever_models.TrainOptions] = []

    def capture(options: retriever_models.TrainOptions, log: Any = None) -> Any:
        seen.append(options)
        raise RepairDeskError("captured", source="test")

    monkeypatch.setattr(retriever_models, "train", capture)
    result = _run("model", "train", "retriever")
    assert result.exit_code == 1 and "captured" in result.stderr
    [options] = seen
    assert options == retriever_models.TrainOptions()
    assert (options.epochs, options.batch_size, options.question_repeat) == (1, 32, 3)
    assert (options.sources, options.fusion_folds, options.fusion_share) == (["question"], 4, 0)
