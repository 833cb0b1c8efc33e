"""`repairdesk model list|train|promote|rollback`: the model registry from the command line.

The registry is MLflow (tools/registry): a SQLite store under the data directory unless
``MLFLOW_TRACKING_URI`` names another. ``train`` and ``promote`` exist for the models that have a
trainer and a gate (retriever, calibrator; the reranker's ``train`` gates and promotes itself);
``list`` and ``rollback`` work for any registered model.
Exit 0 on success, 1 with one line naming the input and the reason (an unknown model, a gate that
refuses: the champion stays), as every command of this CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.output import emit_json, fail

app = typer.Typer(no_args_is_help=True)

TRAINABLE = ("retriever", "calibrator", "reranker")
SHOWN_METRICS = (
    "heldout.dense.recall_at_5",
    "heldout.hybrid.recall_at_1",
    "heldout.hybrid.mrr",
    "heldout.hybrid.recall_at_5",
    "heldout.ece",
    "heldout.auroc",
    "heldout.brier",
    "gate.hybrid.recall_at_1.challenger",
    "gate.hybrid.mrr.challenger",
)


def _require_trainable(name: str) -> None:
    if name not in TRAINABLE:
        fail(name, f"no trainer or gate for this model (trainable: {', '.join(TRAINABLE)})")
        raise typer.Exit(1)


@app.command("list")
def list_models(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Registered models: name, version, alias (champion/challenger), metrics, dataset hash."""
    from tools.registry import ModelRegistry

    versions = ModelRegistry().versions()
    if as_json:
        emit_json([v.model_dump() for v in versions])
        return
    if not versions:
        typer.echo("no registered models")
        return
    for v in versions:
        metrics = ", ".join(f"{k}={v.metrics[k]:.3f}" for k in SHOWN_METRICS if k in v.metrics)
        alias = ",".join(v.aliases) or "-"
        typer.echo(
            f"{v.name} v{v.version} [{alias}] {v.tags.get('kind', '')} data={v.dataset_hash[:12] or '-'} "
            f"commit={v.git_commit[:12] or '-'} {metrics}"
        )


@app.command("train")
def train(
    name: Annotated[str, typer.Argument(help="Model to train: retriever, calibrator or reranker.")],
    method: Annotated[str, typer.Option(help="full or lora (peft).")] = "full",
    # Defaults: the recipe chosen on the tuning half (benchmarks/retriever_tuning.py, docs/retrieval.md).
    epochs: Annotated[int, typer.Option(min=1)] = 1,
    max_steps: Annotated[int, typer.Option(min=0, help="Stop after N steps (0: all epochs).")] = 0,
    batch_size: Annotated[int, typer.Option(min=2)] = 32,
    learning_rate: Annotated[float, typer.Option()] = 5e-5,
    max_seq_length: Annotated[
        int, typer.Option(min=16, help="Word pieces read per text in training (served at the base's).")
    ] = 128,
    layers: Annotated[int, typer.Option(min=0, help="Keep only the first N layers (0: all).")] = 0,
    seed: Annotated[int, typer.Option()] = 13,
    threads: Annotated[int, typer.Option(min=1)] = 2,
    questions: Annotated[Path | None, typer.Option(help="Retrieval questions (JSONL).")] = None,
    corpus: Annotated[list[Path] | None, typer.Option("--corpus", help="Corpus folder (repeatable).")] = None,
    no_fusion: Annotated[bool, typer.Option("--no-fusion", help="Keep the default fusion weights.")] = False,
    question_repeat: Annotated[
        int, typer.Option(min=1, help="Repeat the question pairs N times (weigh the analysts' words).")
    ] = 3,
    fusion_share: Annotated[
        int,
        typer.Option(min=0, help="Keep 1/N of the tuning questions out of training; tune fusion on them."),
    ] = 0,
    fusion_folds: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Tune fusion on out-of-fold models of K folds of the tuning half, training on all "
            "(default 4; 0 without --fusion-share: fusion tuned on the training questions).",
        ),
    ] = None,
    sources: Annotated[
        str,
        typer.Option(help="Pair sources, comma-separated: question, heading, decision, reference."),
    ] = "question",
    expand_anchors: Annotated[
        bool,
        typer.Option(help="Train on the questions as the search embeds them (jargon-expanded)."),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[
        int, typer.Option(min=0, help="calibrator: only the first N source cases (0: all).")
    ] = 0,
    cross_fit: Annotated[
        int,
        typer.Option(
            min=0, help="calibrator: also report a grouped K-fold cross-fitted figure over both splits."
        ),
    ] = 0,
) -> None:
    """Train a challenger on the tuning half, register it, score it on the held-out half."""
    from app.cli.retriever_models import TrainOptions
    from app.cli.retriever_models import train as run_train
    from tools.errors import RepairDeskError
    from tools.retrieval.training_data import SOURCES

    _require_trainable(name)
    if name == "calibrator":
        _train_calibrator(limit or None, as_json, cross_fit)
        return
    if name == "reranker":
        _train_reranker(questions, as_json)
        return
    if method not in ("full", "lora"):
        fail("--method", "must be full or lora")
        raise typer.Exit(1)
    chosen = [part.strip() for part in sources.split(",") if part.strip()]
    unknown = sorted(set(chosen) - set(SOURCES))
    if unknown or not chosen:
        known = ", ".join(SOURCES)
        fail("--sources", f"unknown or none: {', '.join(unknown) or repr(sources)} (known: {known})")
        raise typer.Exit(1)
    # Fusion from out-of-fold models unless a share is asked for (the two are exclusive).
    folds = (0 if fusion_share else TrainOptions().fusion_folds) if fusion_folds is None else fusion_folds
    options = TrainOptions(
        method=method, epochs=epochs, max_steps=max_steps, batch_size=batch_size,
        learning_rate=learning_rate, layers=layers, seed=seed, threads=threads,
        max_seq_length=max_seq_length,
        questions=questions, corpus=corpus, tune_fusion=not no_fusion,
        question_repeat=question_repeat, fusion_share=fusion_share, expand_anchors=expand_anchors,
        fusion_folds=folds,
        sources=chosen,
    )  # fmt: skip
    try:
        result = run_train(options, log=lambda m: typer.echo(m, err=True))
    except RepairDeskError as exc:
        fail(exc.source or name, exc.reason)
        raise typer.Exit(1) from None
    if as_json:
        emit_json(result.model_dump())
        return
    held = result.held_out
    typer.echo(
        f"registered {name} v{result.version.version} as challenger (data {result.dataset['hash'][:12]}, "
        f"{result.dataset['pairs']} pairs, {result.training['steps']} steps, {result.seconds:.0f} s); "
        f"held-out dense recall@5 {held['dense']['recall@5']:.3f}, hybrid recall@1 "
        f"{held['hybrid']['recall@1']:.3f} MRR {held['hybrid']['mrr']:.3f} "
        f"recall@5 {held['hybrid']['recall@5']:.3f}"
    )


@app.command("promote")
def promote(
    name: Annotated[str, typer.Argument(help="Model to promote: retriever.")],
    version: Annotated[int | None, typer.Option(help="Version to promote (default: the challenger).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Retrieval questions (JSONL).")] = None,
    corpus: Annotated[list[Path] | None, typer.Option("--corpus", help="Corpus folder (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[
        int, typer.Option(min=0, help="calibrator: only the first N source cases (0: all).")
    ] = 0,
) -> None:
    """Promote the challenger only if the gate passes on the held-out half (exit 1 when it refuses)."""
    from app.cli.retriever_models import promote as run_promote
    from evals.retrieval_eval import format_gate
    from tools.errors import RepairDeskError

    _require_trainable(name)
    if name == "calibrator":
        _promote_calibrator(version, limit or None, as_json)
        return
    if name == "reranker":
        fail(name, "`repairdesk model train reranker` gates it and serves it on a pass")
        raise typer.Exit(1)
    try:
        result = run_promote(version, questions=questions, corpus=corpus)
    except RepairDeskError as exc:
        fail(exc.source or name, exc.reason)
        raise typer.Exit(1) from None
    if as_json:
        emit_json(result.model_dump())
    else:
        typer.echo(format_gate(result.gate))
    if not result.passed:
        fail(
            f"{name} v{result.challenger.version}",
            f"gate refused; v{result.champion.version} stays champion ({'; '.join(result.gate['reasons'])})",
        )
        raise typer.Exit(1)
    if not as_json:
        typer.echo(f"{name} v{result.challenger.version} is the champion (was v{result.champion.version})")


@app.command("rollback")
def rollback(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    corpus: Annotated[list[Path] | None, typer.Option("--corpus", help="Corpus folder (repeatable).")] = None,
) -> None:
    """Return to the previous champion (for the retriever: its model and its index serve again)."""
    from tools.errors import RepairDeskError
    from tools.registry import ModelRegistry

    try:
        if name == "retriever":
            from app.cli.retriever_models import rollback as run_rollback

            info = run_rollback(corpus=corpus)
        elif name == "reranker":
            _rollback_reranker()  # raises RepairDeskError when nothing serves
            return
        elif name == "calibrator":
            from app.cli.calibrator_models import rollback as rollback_calibrator

            info = rollback_calibrator()
        else:
            info = ModelRegistry().rollback(name)
    except RepairDeskError as exc:
        fail(exc.source or name, exc.reason)
        raise typer.Exit(1) from None
    typer.echo(f"{name} v{info.version} is the champion again")


def _train_reranker(questions: Path | None, as_json: bool) -> None:
    """Fit the re-ranker of the active retriever's fused candidates on the tuning half (grouped CV
    picks the setting), gate it on the held-out half against what serves (the champion, or the fusion
    alone), register it in MLflow and serve it as the champion on a pass (app/cli/reranker_models.py).
    Exit 1 when the gate refuses."""
    from app.cli.reranker_models import train as train_reranker
    from evals.retrieval_eval import format_gate
    from tools.config import REPO_ROOT
    from tools.errors import RepairDeskError

    dataset = questions or REPO_ROOT / "evals" / "datasets" / "retrieval.jsonl"
    try:
        result = train_reranker(dataset)
    except RepairDeskError as exc:
        fail(exc.source or "reranker", exc.reason)
        raise typer.Exit(1) from None
    if as_json:
        emit_json(result)
    else:
        base = result["cv"][0]
        typer.echo(
            f"cv on the tuning half: fusion recall@1 {base['recall@1']:.3f} MRR {base['mrr']:.3f} "
            f"recall@5 {base['recall@5']:.3f}"
        )
        if result["gate"] is None:
            typer.echo("no setting beats the fusion in cross-validation: nothing registered")
        else:
            cv = result["meta"]["cv"]
            typer.echo(
                f"chosen {result['meta']['setting']}: cv recall@1 {cv['recall@1']:.3f} MRR {cv['mrr']:.3f} "
                f"recall@5 {cv['recall@5']:.3f}; registered reranker v{result['version']}"
            )
            typer.echo(format_gate(result["gate"]))
    if result["gate"] is not None and not result["gate"]["passed"]:
        fail(
            f"reranker v{result['version']}", "gate refused: the champion (or the fusion alone) keeps serving"
        )
        raise typer.Exit(1)
    if result["written"] and not as_json:
        typer.echo(f"reranker v{result['version']} is the champion, serving {result['written']}")


def _rollback_reranker() -> None:
    from app.cli.reranker_models import rollback as rollback_reranker
    from tools.retrieval.active_model import active_model_name

    info, path = rollback_reranker(active_model_name())
    if info is None:
        typer.echo(f"reranker removed ({path}): the fusion alone ranks")
    else:
        typer.echo(f"reranker v{info.version} is the champion again, serving {path}")


def _train_calibrator(limit: int | None, as_json: bool, cross_fit: int = 0) -> None:
    from app.cli.calibrator_models import train as train_calibrator
    from tools.errors import RepairDeskError

    try:
        result = train_calibrator(limit=limit, log=lambda m: typer.echo(m, err=True), cross_fit=cross_fit)
    except RepairDeskError as exc:
        fail(exc.source or "calibrator", exc.reason)
        raise typer.Exit(1) from None
    if as_json:
        emit_json(result)
        return
    m = result["metrics"]
    typer.echo(
        f"registered calibrator v{result['version']} ({result['calibrator']}) as challenger "
        f"(data {result['dataset']['sha256'][:12]}); held-out ECE {m['ece']:.4f} Brier {m['brier']:.4f} "
        f"AUROC {m['auroc']:.4f} (n={m['n']:.0f})"
    )
    if "cross_fitted" in result:
        x, crossed = result["cross_fitted"]["overall"], result["cross_fitted"]
        typer.echo(
            f"cross-fitted over both splits ({crossed['groups']} source cases, {crossed['folds']} folds; "
            f"not the held-out floor): ECE {x['ece']:.4f} Brier {x['brier']:.4f} AUROC {x['auroc']:.4f} "
            f"(n={x['n']:.0f})"
        )


def _promote_calibrator(version: int | None, limit: int | None, as_json: bool) -> None:
    from app.cli.calibrator_models import promote as promote_calibrator
    from tools.errors import RepairDeskError

    try:
        result = promote_calibrator(version, limit=limit)
    except RepairDeskError as exc:
        fail(exc.source or "calibrator", exc.reason)
        raise typer.Exit(1) from None
    if as_json:
        emit_json(result)
    else:
        ours, diff = result["challenger"], result["brier_difference"]
        typer.echo(
            f"gate: challenger ECE {ours['ece']:.4f} AUROC {ours['auroc']:.4f} Brier {ours['brier']:.4f}; "
            f"paired Brier difference {diff['value']:+.4f} [{diff['ci95'][0]:+.4f}, {diff['ci95'][1]:+.4f}]"
        )
    if not result["passed"]:
        fail(f"calibrator v{result['version']}", f"gate refused ({'; '.join(result['reasons'])})")
        raise typer.Exit(1)
    if not as_json:
        was = f"v{result['champion']}" if result["champion"] else "the committed artefact"
        typer.echo(f"calibrator v{result['version']} is the champion (was {was})")


@app.command("shadow")
def shadow(
    name: Annotated[str, typer.Argument(help="Model to shadow: calibrator.")],
    off: Annotated[bool, typer.Option("--off", help="Stop shadowing.")] = False,
    report: Annotated[bool, typer.Option("--report", help="Print the agreement recorded so far.")] = False,
) -> None:
    """Run the challenger beside the champion on live triage; proposals record both confidences."""
    from app.cli.calibrator_models import shadow as run_shadow
    from tools.errors import RepairDeskError

    if name != "calibrator":
        fail(name, "shadow mode exists for the calibrator only")
        raise typer.Exit(1)
    if report:
        from app.db.session import Database
        from app.services.shadow import agreement
        from app.settings import Settings

        emit_json(agreement(Database(Settings().database_url)))
        return
    try:
        typer.echo(run_shadow(off=off))
    except RepairDeskError as exc:
        fail(exc.source or name, exc.reason)
        raise typer.Exit(1) from None
