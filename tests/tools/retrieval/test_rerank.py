"""The learned re-ranker of fused candidates: loads, is refused when malformed, re-orders
deterministically, and the fusion serves alone when it is absent or keyed to something else."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tools.calibration.model import Forest, _tree_values
from tools.errors import ValidationError
from tools.retrieval.chunking import Chunk
from tools.retrieval.fusion import FusionWeights
from tools.retrieval.rerank import FEATURES, FORMAT, Reranker, reranker_for, reranker_path
from tools.retrieval.search import ProcedureSearch
from tools.retrieval.synonyms import Lexicon
from tools.retrieval.vector_index import build_vector_index

MODEL = "test-embedder"


class FixedEmbedder:
    """Every query is the same vector: the dense list is fixed, the test is about the ranking."""

    name = MODEL
    dim = 8

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        vector[:3] = (0.8, 0.5, 0.33)
        return np.tile(vector / np.linalg.norm(vector), (len(texts), 1))


def _section(section: str, heading: str, text: str) -> Chunk:
    return Chunk(
        chunk_id=f"SOP-X#{section}#0", doc_id="SOP-X", title="Closed account", section=section,
        heading=heading, heading_path=["Closed account", heading], text=f"{heading}\n{text}",
    )  # fmt: skip


CHUNKS = [
    _section(
        "1",
        "Purpose and scope",
        "A closed account, a replacement account for the closed account, and when a replacement is "
        "allowed: the closed account cases this procedure covers.",
    ),
    _section("2", "Principles", "Never credit a closed account; the customer decides."),
    _section("3.2", "Replacement account", "Use the SSI."),
]
QUERY = "closed account replacement"


def _search(reranker: Reranker | None = None) -> ProcedureSearch:
    vectors = np.eye(len(CHUNKS), 8, dtype=np.float32)
    return ProcedureSearch(
        CHUNKS, build_vector_index(vectors), embedder=FixedEmbedder(), vectors=vectors,
        lexicon=Lexicon([]), model_name=MODEL, reranker=reranker,
    )  # fmt: skip


def _linear(feature: str, weight: float = 5.0) -> Reranker:
    """A hand-set linear reranker that scores on one feature alone."""
    coef = [weight if name == feature else 0.0 for name in FEATURES]
    return Reranker(
        version="t", embedder=MODEL, fusion={k: float(v) for k, v in asdict(FusionWeights()).items()},
        kind="linear", features=list(FEATURES), depth=10, mean=[0.0] * len(FEATURES),
        scale=[1.0] * len(FEATURES), coef=coef,
    )  # fmt: skip


def _trees(feature: str) -> Reranker:
    """One tree: a candidate whose ``feature`` is above 0.5 scores 2, others -1."""
    tree: dict[str, list[float]] = {
        "feature": [FEATURES.index(feature), 0, 0], "threshold": [0.5, 0.0, 0.0], "left": [1, 0, 0],
        "right": [2, 0, 0], "leaf": [0, 1, 1], "value": [0.0, -1.0, 2.0],
    }  # fmt: skip
    return replace(_linear(feature), kind="trees", trees=[tree], mean=[], scale=[], coef=[])


def _sections(search: ProcedureSearch) -> list[str]:
    return [h.section for h in search.search(QUERY, k=3)]


@pytest.fixture
def data_dir(tmp_path: Path, tool_config: Callable[..., Any]) -> Path:
    tool_config(data_dir=tmp_path)
    return tmp_path


def test_fusion_alone_when_absent(data_dir: Path) -> None:
    assert reranker_for(MODEL, FusionWeights()) is None
    assert _search().reranker is None
    assert _sections(_search()) == ["1", "3.2", "2"]  # the fused order: BM25 and the fixed dense list


@pytest.mark.parametrize("make", [_linear, _trees])
def test_rerank_changes_the_order_deterministically(make: Callable[[str], Reranker]) -> None:
    plain = _sections(_search())
    search = _search(make("heading_cover"))
    reranked = _sections(search)
    assert reranked[0] == "3.2"  # the heading that covers the query goes first
    assert reranked != plain and sorted(reranked) == sorted(plain)
    assert all(_sections(search) == reranked for _ in range(3))
    scores = [h.score for h in search.search(QUERY, k=3)]
    assert scores == sorted(scores, reverse=True)  # positions keep the fused scores


def test_a_reranker_reorders_the_fusions_top_five_sections_but_never_replaces_one() -> None:
    """The gate asks a re-ranker for no loss on recall@5: it may reorder the fusion's first five
    sections and those after them, never move one across that line."""
    chunks = [*CHUNKS, *(_section(str(n), f"Annex {n}", f"Annex text {n}.") for n in range(4, 9))]
    vectors = np.eye(len(chunks), 8, dtype=np.float32)

    def search(reranker: Reranker | None) -> ProcedureSearch:
        return ProcedureSearch(
            chunks, build_vector_index(vectors), embedder=FixedEmbedder(), vectors=vectors,
            lexicon=Lexicon([]), model_name=MODEL, reranker=reranker,
        )  # fmt: skip

    plain = [h.section for h in search(None).search(QUERY, k=8)]
    assert len(plain) == 8
    backwards = search(_linear("fused_rank"))  # prefers the fusion's last candidates
    hits = backwards.search(QUERY, k=8)
    assert [h.section for h in hits] == plain[:5][::-1] + plain[5:][::-1]
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)  # the fusion's ladder, position by position


def test_a_negative_weight_reverses_the_preference() -> None:
    assert _sections(_search(_linear("heading_cover", -5.0)))[-1] == "3.2"


def test_saved_reranker_is_found_for_its_model_only(data_dir: Path) -> None:
    model = _linear("heading_cover")
    path = model.save(reranker_path(MODEL))
    assert path.parent == data_dir / "models" / "reranker"
    loaded = reranker_for(MODEL, FusionWeights())
    assert loaded is not None and loaded.coef == model.coef
    assert reranker_for("another-model", FusionWeights()) is None
    assert reranker_for(MODEL, replace(FusionWeights(), dense=0.9)) is None  # fitted over other fusion


def _write(path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    data = _trees("heading_cover").to_json()
    change(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(format="repairdesk-calibrator/1"),
        lambda d: d.update(features=d["features"][:-1]),
        lambda d: d.update(kind="forest"),
        lambda d: d.update(depth=0),
        lambda d: d.update(trees=[]),
        lambda d: d["trees"][0].update(left=[0, 0, 0]),  # a child before its parent: endless walk
        lambda d: d["trees"][0].update(feature=[999, 0, 0]),
        lambda d: d.update(unknown_key=1),
        lambda d: d.update(kind="linear", coef=[1.0]),
    ],
)
def test_malformed_reranker_is_refused(
    data_dir: Path, change: Callable[[dict[str, Any]], object], caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(reranker_path(MODEL), change)
    with pytest.raises(ValidationError):
        Reranker.load(path)
    assert reranker_for(MODEL, FusionWeights()) is None  # the search keeps serving with the fusion
    assert "reranker not used" in caplog.text


def test_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError):
        Reranker.load(path)
    assert Reranker.load(_write(tmp_path / "ok.json", lambda d: None)).kind == "trees"
    assert json.loads((tmp_path / "ok.json").read_text())["format"] == FORMAT


def test_forest_equals_tree_by_tree_sum() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from evals.calibration import export_trees

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
    _, trees = export_trees(HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=7).fit(x, y))
    rows = rng.normal(size=(50, 4))
    expected = sum(_tree_values(tree, rows) for tree in trees)
    assert np.allclose(Forest(trees).values(rows), expected)


def test_cross_validation_keeps_the_fusion_unless_a_setting_beats_it() -> None:
    from evals.rerank_fit import choose

    fusion = {"setting": "fusion", "recall@1": 0.70, "recall@5": 0.97, "mrr": 0.80}
    worse = {"setting": {"model": "a"}, "recall@1": 0.69, "recall@5": 0.99, "mrr": 0.80}
    loses_recall = {"setting": {"model": "b"}, "recall@1": 0.80, "recall@5": 0.96, "mrr": 0.88}
    better = {"setting": {"model": "c"}, "recall@1": 0.72, "recall@5": 0.97, "mrr": 0.81}
    assert choose([fusion, worse, loses_recall]) is None
    assert choose([fusion, worse, loses_recall, better]) == {"model": "c"}


def test_fitted_reranker_round_trips_and_scores_alike(tmp_path: Path) -> None:
    """A model fitted by evals/rerank_fit.py on the tiny corpus saves, loads and ranks the same."""
    from evals.rerank_fit import collect, fit_model

    search = _search()
    gold = [{"id": "q1", "question": QUERY, "gold": [("SOP-X", "3.2")]}]
    gold.append({"id": "q2", "question": "closed account principles", "gold": [("SOP-X", "2")]})
    queries = collect(search, gold)
    for name in ("gbt-50x7", "linear-c1", "pairwise-c1"):
        model = fit_model(search, queries, {"model": name, "depth": 10})
        loaded = Reranker.load(model.save(tmp_path / f"{name}.json"))
        _, matrix = queries[0].features(search, 10)
        assert np.allclose(loaded.score(matrix), model.score(matrix))
        assert loaded.features == list(FEATURES) and loaded.embedder == MODEL


def test_questions_with_out_of_fold_lists_are_fused_from_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tuning question whose out-of-fold dense list was saved with the model is fused from that
    list, not from the served model (trained on it); a list naming chunks this index lacks, and a
    question without one, fall back to the served model's list."""
    from evals.rerank_fit import collect
    from tools.retrieval.oof_lists import read_dense_lists, write_dense_lists

    search = _search()
    ids = [c.chunk_id for c in search.chunks]
    saved = {
        "q1": (ids[::-1], [1.0 - n / 100 for n in range(len(ids))]),  # the served order reversed
        "q3": (["SOP-GONE#1#0", *ids[1:]], [0.5] * len(ids)),
    }
    write_dense_lists(tmp_path, saved, folds=4)
    lists = read_dense_lists(tmp_path)
    assert lists == saved
    asked: list[str] = []
    served = search.dense_candidates

    def dense(query: str, depth: int, allowed: Any = None) -> tuple[list[int], list[float]]:
        asked.append(query)
        return served(query, depth, allowed)

    monkeypatch.setattr(search, "dense_candidates", dense)
    questions = [
        {"id": f"q{n}", "question": f"question {n} {QUERY}", "gold": [("SOP-X", "3.2")]} for n in (1, 2, 3)
    ]
    queries = collect(search, questions, dense_lists=lists)
    assert asked == [questions[1]["question"], questions[2]["question"]]  # q2 has none, q3's is stale
    plain = collect(search, questions[:1])
    assert queries[0].fused != plain[0].fused  # fused from the saved list, not the served one
    assert queries[0].fused.dense[len(ids) - 1] == (1, 1.0)  # the saved list's first chunk, its cosine
    (tmp_path / "oof_dense.json").write_text('{"format": "other"}')
    assert read_dense_lists(tmp_path) is None and read_dense_lists(tmp_path / "none") is None


def test_reranker_cli_promote_is_the_trainers_gate_and_rollback_removes_it(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli.main import cli as app
    from tools.retrieval.minilm import MODEL_NAME

    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(data_dir))  # what the CLI configures itself from
    runner = CliRunner()
    refused = runner.invoke(app, ["model", "promote", "reranker"])
    assert refused.exit_code == 1 and "gates it" in refused.stderr
    assert runner.invoke(app, ["model", "rollback", "reranker"]).exit_code == 1  # none serving
    path = _linear("heading_cover").save(reranker_path(MODEL_NAME))
    removed = runner.invoke(app, ["model", "rollback", "reranker"])
    assert removed.exit_code == 0 and not path.exists()


def _gate(passed: bool) -> dict[str, Any]:
    figures = {"champion": 0.5, "challenger": 0.75 if passed else 0.4, "diff": 0.25 if passed else -0.1}
    comparisons = {f"hybrid.{m}": {**figures, "ci95": [0.1, 0.4]} for m in ("recall@1", "mrr", "recall@5")}
    return {"passed": passed, "split": "held-out", "questions": 4, "comparisons": comparisons, "reasons": []}


def _fake_fit(monkeypatch: pytest.MonkeyPatch, model: Reranker, passed: bool) -> None:
    """train_and_gate stand-in: the fit is ``model`` (written where the real one writes it), the gate's
    verdict is ``passed``; what is under test is the registry and serving around it."""
    from evals import rerank_fit
    from tools.retrieval.rerank import challenger_path

    def fit(search: ProcedureSearch, dataset: Path, *, folds: int, dense_lists: Any = None) -> dict[str, Any]:
        model.meta = {
            "setting": {"model": "linear-c1", "depth": 10, "corpus": False}, "questions": 2,
            "corpus_questions": 0, "dataset": "d" * 12, "dataset_sha256": "d" * 64, "folds": folds,
            "out_of_fold_dense": 0,
            "cv": {"recall@1": 0.6, "recall@5": 0.9, "mrr": 0.7},
            "cv_fusion": {"recall@1": 0.5, "recall@5": 0.9, "mrr": 0.6},
        }  # fmt: skip
        path = model.save(challenger_path(search.model_name))
        cv = [{"setting": "fusion", **model.meta["cv_fusion"]}]
        return {"cv": cv, "written": None, "gate": _gate(passed), "challenger": str(path), "meta": model.meta}

    monkeypatch.setattr(rerank_fit, "train_and_gate", fit)


def test_train_registers_the_reranker_and_serves_it_only_on_a_pass(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import reranker_models
    from tools.registry import ModelRegistry
    from tools.retrieval.rerank import features_version

    serving = reranker_path(MODEL)
    _fake_fit(monkeypatch, _linear("heading_cover"), passed=False)
    refused = reranker_models.train(data_dir / "q.jsonl", _search(), folds=2)
    assert refused["written"] is None and not serving.exists()
    _fake_fit(monkeypatch, _linear("dense_cos"), passed=True)
    passed = reranker_models.train(data_dir / "q.jsonl", _search(), folds=2)
    assert passed["written"] == str(serving)
    registry = ModelRegistry()
    first, second = registry.get("reranker", 1), registry.get("reranker", 2)
    assert first.aliases == [] and second.aliases == ["champion"]  # challenger moved on, then promoted
    assert second.dataset_hash == "d" * 64 and second.git_commit
    assert second.params["embedder"] == MODEL and second.params["features_version"] == features_version()
    assert json.loads(second.params["setting"])["model"] == "linear-c1"
    assert second.params["fusion_key"] == reranker_models.fusion_key(_linear("x").fusion)
    assert second.metrics["cv.recall_at_1"] == 0.6 and second.metrics["gate.passed"] == 1.0
    assert second.metrics["gate.hybrid.mrr.diff"] == 0.25 and first.metrics["gate.passed"] == 0.0
    assert Reranker.load(serving).coef == _linear("dense_cos").coef  # the registered JSON serves
    assert reranker_for(MODEL, FusionWeights()) is not None


def test_rollback_serves_the_previous_champion_then_the_fusion_alone(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import reranker_models
    from tools.registry import ModelRegistry

    serving = reranker_path(MODEL)
    served: list[bytes] = []
    for feature in ("heading_cover", "dense_cos"):
        _fake_fit(monkeypatch, _linear(feature), passed=True)
        reranker_models.train(data_dir / "q.jsonl", _search(), folds=2)
        served.append(serving.read_bytes())
    first_json = served[0]
    assert served[1] != first_json
    assert Reranker.load(serving).coef == _linear("dense_cos").coef
    info, path = reranker_models.rollback(MODEL)
    assert info is not None and info.version == 1 and path == serving
    assert serving.read_bytes() == first_json and Reranker.load(serving).coef == _linear("heading_cover").coef
    assert ModelRegistry().alias("reranker", "champion").version == 1  # type: ignore[union-attr]
    info, path = reranker_models.rollback(MODEL)  # v1 replaced no champion: the fusion alone
    assert info is None and not serving.exists() and reranker_for(MODEL, FusionWeights()) is None
    assert ModelRegistry().alias("reranker", "champion") is None
    with pytest.raises(ValidationError):
        reranker_models.rollback(MODEL)  # nothing serves


def test_rollback_of_a_single_version_returns_to_the_fusion_alone(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import reranker_models

    _fake_fit(monkeypatch, _linear("heading_cover"), passed=True)
    reranker_models.train(data_dir / "q.jsonl", _search(), folds=2)
    assert reranker_path(MODEL).is_file()
    info, path = reranker_models.rollback(MODEL)
    assert info is None and path == reranker_path(MODEL) and not path.exists()
    assert _sections(_search(reranker_for(MODEL, FusionWeights()))) == ["1", "3.2", "2"]


@pytest.mark.parametrize("serving", [None, "dense_cos"])
def test_gate_champion_is_the_serving_reranker_or_the_fusion_alone(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, serving: str | None
) -> None:
    """A refit is judged against what serves now: the serving re-ranker when there is one, so a refit
    no better than it is refused; the fusion alone otherwise."""
    from evals import rerank_fit, retrieval_eval

    champion = _linear(serving) if serving else None
    search = _search(champion)
    challenger = _linear("heading_cover")
    monkeypatch.setattr(
        rerank_fit, "fit_tuning", lambda search, tuning, folds, dense_lists=None: (challenger, [])
    )
    judged: list[Reranker | None] = []

    def evaluate(dataset: Path, search: ProcedureSearch, modes: Sequence[str]) -> dict[str, Any]:
        judged.append(search.reranker)
        return {"judged": len(judged)}

    monkeypatch.setattr(retrieval_eval, "evaluate", evaluate)
    monkeypatch.setattr(retrieval_eval, "model_gate", lambda a, b: {"passed": True, "pair": (a, b)})
    dataset = data_dir / "questions.jsonl"
    dataset.write_text("")
    out = rerank_fit.train_and_gate(search, dataset)
    assert judged[0] is champion  # the champion side
    assert judged[1] is not None and judged[1].meta == challenger.meta  # the challenger, loaded from disk
    assert out["gate"]["pair"] == ({"judged": 1}, {"judged": 2})
    assert search.reranker is champion  # what serves is untouched by the gate
