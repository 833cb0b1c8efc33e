"""Train, gate, register, serve and roll back the hybrid search's re-ranker through the MLflow registry.

``train``: evals/rerank_fit.py fits on the tuning half (grouped CV picks the setting) and gates the
fit on the held-out half against what serves: the champion re-ranker, or the fusion alone when none
serves (evals/retrieval_eval.py ``model_gate``). A fit
(pass or fail) is logged and registered as the ``challenger`` of :data:`NAME` with its parameters
(setting, features version, embedder, fusion weights key), CV and gate metrics, the tuning-half
dataset hash and the git commit (tools/registry). On a pass that version becomes the ``champion``
and its JSON is copied where the search loads it (:func:`tools.retrieval.rerank.reranker_path`).
No setting beating the fusion in CV registers nothing.

``rollback``: the previous champion serves again (its registered JSON); with none before it, the
champion alias is dropped and the serving file removed: the fusion alone ranks, as before any fit.
There is no separate ``promote``: training runs the gate.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools import config
from tools.errors import ValidationError
from tools.registry import ModelRegistry
from tools.registry.mlflow_registry import CHAMPION, ModelVersionInfo
from tools.retrieval.oof_lists import DenseLists, read_dense_lists
from tools.retrieval.rerank import FEATURES, Reranker, features_version, reranker_path

if TYPE_CHECKING:
    from tools.retrieval.search import ProcedureSearch

NAME = "reranker"
ARTEFACT = "reranker.json"
METRICS = ("recall@1", "recall@5", "mrr")


def fusion_key(fusion: dict[str, float]) -> str:
    """A short hash of the fusion weights a re-ranker was fitted over (it serves under those only)."""
    return hashlib.sha256(json.dumps(fusion, sort_keys=True).encode()).hexdigest()[:12]


def train(
    dataset: Path, search: ProcedureSearch | None = None, *, folds: int | None = None
) -> dict[str, Any]:
    """Fit and gate (evals/rerank_fit.py ``train_and_gate``), register the fit, serve it on a pass.

    Returns train_and_gate's result plus ``version`` (the registered version, absent when CV kept
    the fusion) and ``written`` (the serving path on a pass, else None).
    """
    from evals import rerank_fit

    if search is None:
        from tools.retrieval.search import open_search

        search = open_search()
    result = rerank_fit.train_and_gate(
        search, dataset, folds=folds or rerank_fit.FOLDS, dense_lists=served_dense_lists(search.model_name)
    )
    if result["gate"] is None:
        return result
    model = Reranker.load(Path(result["challenger"]))
    gate = result["gate"]
    meta = model.meta
    metrics = {f"cv.{k}": float(meta["cv"][k]) for k in METRICS}
    metrics |= {f"cv_fusion.{k}": float(meta["cv_fusion"][k]) for k in METRICS}
    for key, value in gate["comparisons"].items():
        metrics |= {f"gate.{key}.champion": value["champion"], f"gate.{key}.challenger": value["challenger"]}
        metrics[f"gate.{key}.diff"] = value["diff"]
    metrics["gate.passed"] = 1.0 if gate["passed"] else 0.0
    params = {
        "setting": json.dumps(meta["setting"], sort_keys=True),
        "kind": model.kind,
        "depth": model.depth,
        "features": len(FEATURES),
        "features_version": features_version(),
        "embedder": model.embedder,
        "fusion": json.dumps(model.fusion, sort_keys=True),
        "fusion_key": fusion_key(model.fusion),
        "questions": meta["questions"],
        "corpus_questions": meta["corpus_questions"],
        "folds": meta["folds"],
        "out_of_fold_dense": meta["out_of_fold_dense"],
    }
    registry = ModelRegistry()
    with tempfile.TemporaryDirectory() as folder:
        shutil.copyfile(result["challenger"], Path(folder) / ARTEFACT)
        info = registry.log_version(
            NAME,
            Path(folder),
            params=params,
            metrics=metrics,
            dataset_hash=str(meta["dataset_sha256"]),
            tags={"kind": NAME, "embedder": model.embedder, "reranker_version": model.version},
        )
    result["version"] = info.version
    if gate["passed"]:
        info = registry.promote(NAME, info.version)
        result["written"] = str(serve(registry, info))
    return result


def served_dense_lists(model_name: str) -> DenseLists | None:
    """The out-of-fold dense lists saved with the serving retriever (tools/retrieval/oof_lists.py)
    when ``model_name`` is that retriever; None for the shipped base model, which was trained on
    none of the questions."""
    from tools.retrieval.active_model import active_model

    model = active_model()
    if model is None or model.name != model_name:
        return None
    return read_dense_lists(Path(model.path))


def serve(registry: ModelRegistry, info: ModelVersionInfo) -> Path:
    """Copy ``info``'s registered JSON where the search loads it (after checking that it loads)."""
    folder = registry.materialise(info, config.data_dir() / "models" / NAME / f"v{info.version}")
    source = folder / ARTEFACT
    model = Reranker.load(source)
    target = reranker_path(model.embedder)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return target


def rollback(embedder: str) -> tuple[ModelVersionInfo | None, Path]:
    """The previous champion serves again: ``(its version, the serving path)``; with none before
    it, ``(None, the removed path)``: the fusion alone ranks. ``embedder`` (the active retriever's)
    names the serving file when no re-ranker is registered (a file written before the registry).
    Raises ValidationError when nothing serves."""
    registry = ModelRegistry()
    current = registry.alias(NAME, CHAMPION) if NAME in registry.names() else None
    path = reranker_path(current.tags.get("embedder", embedder) if current else embedder)
    if current is not None and registry.previous_champion(NAME) is not None:
        info = registry.rollback(NAME)
        served = serve(registry, info)
        if served != path:  # the previous champion was fitted for another embedder
            path.unlink(missing_ok=True)
        return info, served
    if current is None and not path.is_file():
        raise ValidationError(f"none serving ({path})", source=NAME)
    if current is not None:
        registry.retire(NAME)
    path.unlink(missing_ok=True)
    return None, path
