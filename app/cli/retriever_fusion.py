"""Fusion weights chosen on out-of-fold dense lists (``repairdesk model train retriever --fusion-folds K``).

Why: the fusion grid (evals/retrieval_eval.py ``tune_fusion``) weighs the dense list against BM25 by
how well the hybrid ranks the tuning questions. On questions the model was trained on, its dense list
looks better than it is; keeping a share of them out of training (``--fusion-share``) leaves both the
training and the grid with fewer questions. Here the tuning questions are split into K folds; each
fold is answered by a model trained, with the same recipe, on the other folds only, and the grid's
figures are pooled over the folds. Every tuning question judges the weights once, always through a
model that never saw it. The served model is then trained on all the tuning questions. The held-out
half is never read. Cost: K short trainings and K indexes of the corpus (no embedding cache: the
fold models are thrown away).

The same out-of-fold models also give each tuning question its dense candidate list
(tools/retrieval/oof_lists.py): the re-ranker is fitted on candidates from those
(evals/rerank_fit.py), as it will see a new question's, instead of lists from a model that was
trained on the very questions it is fitted on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tools.retrieval.finetune import FinetuneConfig
from tools.retrieval.oof_lists import OOF_DEPTH, DenseLists
from tools.retrieval.training_data import TrainingPair

PairsFor = Callable[[Sequence[dict[str, Any]]], list[TrainingPair]]


def fold_of(question_id: str, folds: int) -> int:
    """The fold of a tuning question, fixed by its id (a hash independent of the halves' and of the
    fusion share's)."""
    return hashlib.sha256(f"fold:{question_id}".encode()).digest()[0] % folds


def pooled(tables: Sequence[tuple[int, Sequence[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Grid tables of several folds (each ``(questions, rows)`` over the same grid, in the same order)
    as one table: each metric the question-weighted mean over the folds."""
    total = sum(n for n, _ in tables)
    first = tables[0][1]
    out: list[dict[str, Any]] = []
    for i, row in enumerate(first):
        point = {k: v for k, v in row.items() if k not in ("recall@1", "recall@5", "mrr")}
        for metric in ("recall@1", "recall@5", "mrr"):
            point[metric] = sum(n * rows[i][metric] for n, rows in tables) / total
        out.append(point)
    return out


def crossfit_fusion(
    questions: Sequence[dict[str, Any]],
    pairs_for: PairsFor,
    cfg: FinetuneConfig,
    dirs: Sequence[Path],
    workdir: Path,
    *,
    folds: int,
    base: Path,
    log: Callable[[str], None] | None = None,
    dense_lists: DenseLists | None = None,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The fusion weights that rank the tuning ``questions`` best through out-of-fold models (see the
    module docstring), and the pooled grid table. ``pairs_for(questions)`` makes the training pairs of
    a set of questions exactly as the served model's are made. ``dense_lists``, when given, receives
    each question's out-of-fold dense candidates."""
    from evals.retrieval_eval import MemoEmbedder, best_fusion_point, tune_fusion
    from tools.retrieval.embeddings import read_embedder
    from tools.retrieval.finetune import finetune
    from tools.retrieval.index_store import build_index
    from tools.retrieval.search import ProcedureSearch

    say = log or (lambda _m: None)
    tables: list[tuple[int, Sequence[dict[str, Any]]]] = []
    for fold in range(folds):
        held = [q for q in questions if fold_of(q["id"], folds) == fold]
        fit = [q for q in questions if fold_of(q["id"], folds) != fold]
        if not held or not fit:
            continue
        pairs = pairs_for(fit)
        folder = workdir / f"fold{fold}"
        finetune(base, pairs, folder / "model", cfg)
        digest = hashlib.sha256("\n".join(sorted(q["id"] for q in fit)).encode()).hexdigest()[:8]
        embedder = read_embedder(str(folder / "model"), f"repairdesk-retriever/crossfit-{fold}-{digest}")
        build_index(dirs, folder / "index", embedder=embedder, use_cache=False)
        search = ProcedureSearch.load(folder / "index", embedder=MemoEmbedder(embedder))
        _best, table = tune_fusion(search, held)
        tables.append((len(held), table))
        if dense_lists is not None:
            for q in held:
                ids, scores = search.dense_candidates(q["question"], OOF_DEPTH)
                dense_lists[q["id"]] = ([search.chunks[i].chunk_id for i in ids], scores)
        say(f"fusion fold {fold + 1}/{folds}: {len(fit)} questions trained on, {len(held)} ranked")
    if not tables:
        raise ValueError(f"{folds} folds of {len(questions)} questions leave no fold to train and rank")
    table = pooled(tables)
    return best_fusion_point(table), table
