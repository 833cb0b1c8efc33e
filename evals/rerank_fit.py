"""Fitting the hybrid search's re-ranker (tools/retrieval/rerank.py) on the tuning half only.

Protocol:

- Candidates: for every tuning question, the hybrid search's fused candidates exactly as serving
  computes them (:meth:`ProcedureSearch.fused_candidates`), each question embedded once. A
  candidate's label is 1 when its section lies inside a gold section (evals/retrieval_eval.py).
- Optional corpus questions (``corpus=True``): each decision-table row's evidence cell and a sample
  of "procedure title: heading" anchors (tools/retrieval/training_data.py), with the section they
  come from as gold. They are only ever added to the *training* folds; the score is always measured
  on analyst questions.
- Settings (model kind and size, candidate depth, corpus questions or not) are chosen by grouped
  cross-validation inside the tuning half: folds grouped by the question's first gold procedure, so
  near-duplicate questions about one procedure never sit on both sides. A fold's score is the
  served path's recall@1, recall@5 and MRR (re-rank, promotion, one hit per section), averaged over
  the held-out fold's questions. Choice: the best mean MRR + recall@1 among settings whose recall@5
  is no lower than the fusion's on the same folds; the fusion itself stays when none beats it.
- The chosen setting is refitted on every tuning question and written as plain JSON.

The held-out half is never passed here: benchmarks/retrieval.py ``--rerank`` scores it afterwards.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evals.retrieval_eval import DEPTH as EVAL_DEPTH
from evals.retrieval_eval import matched_gold, recall_at, reciprocal_rank
from tools.retrieval.oof_lists import DenseLists
from tools.retrieval.rerank import FEATURES, Fused, Reranker, candidate_features

if TYPE_CHECKING:
    from tools.retrieval.search import ProcedureSearch

SEED = 0
FOLDS = 5
CORPUS_HEADINGS = 200  # heading anchors sampled (there are ~900; decision rows are all kept)
DEPTHS: tuple[int, ...] = (10, 20, 30)
# gbt: histogram gradient boosting, pointwise log loss; linear: logistic regression
MODELS: dict[str, dict[str, Any]] = {
    "linear-c0.1": {"kind": "linear", "C": 0.1},
    "linear-c1": {"kind": "linear", "C": 1.0},
    "pairwise-c0.1": {"kind": "linear", "C": 0.1, "pairwise": True},
    "pairwise-c1": {"kind": "linear", "C": 1.0, "pairwise": True},
    "gbt-50x7": {"kind": "trees", "max_iter": 50, "max_leaf_nodes": 7},
    "gbt-150x7": {"kind": "trees", "max_iter": 150, "max_leaf_nodes": 7},
    "gbt-50x15": {"kind": "trees", "max_iter": 50, "max_leaf_nodes": 15},
    "gbt-150x15": {"kind": "trees", "max_iter": 150, "max_leaf_nodes": 15},
}
GBT_FIXED: dict[str, Any] = {"learning_rate": 0.1, "min_samples_leaf": 20, "l2_regularization": 1.0}


@dataclass
class Query:
    """One question's candidates (fused as served) and its gold sections."""

    id: str
    question: str
    gold: list[tuple[str, str]]
    fused: Fused
    group: str
    source: str = "question"
    _features: dict[int, tuple[list[int], np.ndarray]] = field(default_factory=dict, repr=False)

    def features(self, search: ProcedureSearch, depth: int) -> tuple[list[int], np.ndarray]:
        if depth not in self._features:
            self._features[depth] = candidate_features(
                self.fused, search.chunks, search.profiles, search.bm25, depth
            )
        return self._features[depth]

    def labels(self, search: ProcedureSearch, ids: Sequence[int]) -> np.ndarray:
        chunks = search.chunks
        pairs = [(chunks[i].doc_id, chunks[i].section) for i in ids]
        return np.array([float(matched_gold(p, self.gold) is not None) for p in pairs])


def collect(
    search: ProcedureSearch,
    questions: Sequence[dict[str, Any]],
    source: str = "question",
    dense_lists: DenseLists | None = None,
) -> list[Query]:
    """The fused candidates of each question (``evals.retrieval_eval.load_questions`` rows). A
    question in ``dense_lists`` (out-of-fold lists saved with the served model, by chunk id) is
    fused from that dense list instead of the served model's, which was trained on it."""
    depth = max(60, 4 * EVAL_DEPTH)  # what ProcedureSearch.search fetches for k = EVAL_DEPTH
    position = {c.chunk_id: i for i, c in enumerate(search.chunks)} if dense_lists else {}
    out: list[Query] = []
    for q in questions:
        saved = (dense_lists or {}).get(q["id"])
        # A list cut shorter than this depth (of a larger corpus), or naming chunks this index does
        # not hold (another corpus), is not used: the served model's own list is.
        if (
            saved is not None
            and len(saved[0]) >= min(depth, len(position))
            and all(c in position for c in saved[0])
        ):
            dense = ([position[c] for c in saved[0][:depth]], saved[1][:depth])
        else:
            dense = search.dense_candidates(q["question"], depth)
        bm25 = search.bm25_list(q["question"], depth)
        fused = search.fused_candidates(q["question"], *bm25, *dense)
        gold = [(str(d), str(s)) for d, s in q["gold"]]
        out.append(Query(q["id"], q["question"], gold, fused, group=gold[0][0], source=source))
    return out


def corpus_questions(search: ProcedureSearch, seed: int = SEED) -> list[dict[str, Any]]:
    """Questions made from the corpus: decision-table evidence and sampled heading anchors."""
    from tools.retrieval.training_data import decision_pairs, heading_pairs

    by_id = {c.chunk_id: c for c in search.chunks}
    headings = heading_pairs(search.chunks)
    random.Random(seed).shuffle(headings)
    rows = []
    for n, pair in enumerate([*decision_pairs(search.chunks), *headings[:CORPUS_HEADINGS]]):
        chunk = by_id[pair.positive_id]
        rows.append({"id": f"corpus-{n}", "question": pair.anchor, "gold": [(chunk.doc_id, chunk.section)]})
    return rows


def score_queries(
    search: ProcedureSearch, queries: Sequence[Query], reranker: Reranker | None
) -> dict[str, float]:
    """Mean recall@1, recall@5 and MRR of the served ranking (re-rank, promotion, one hit per section)."""
    sums = {"recall@1": 0.0, "recall@5": 0.0, "mrr": 0.0}
    for q in queries:
        precomputed = q.features(search, reranker.depth) if reranker is not None else None
        order, scores = search.rank(q.fused, reranker, precomputed)
        hits = [(h.doc_id, h.section) for h in search.hits(order, scores, EVAL_DEPTH)]
        sums["recall@1"] += recall_at(hits, q.gold, 1)
        sums["recall@5"] += recall_at(hits, q.gold, 5)
        sums["mrr"] += reciprocal_rank(hits, q.gold)
    n = max(len(queries), 1)
    return {k: v / n for k, v in sums.items()}


def fit_model(
    search: ProcedureSearch, queries: Sequence[Query], setting: dict[str, Any], version: str = "cv"
) -> Reranker:
    """A reranker of ``setting`` (``model`` name of :data:`MODELS`, ``depth``) fitted on ``queries``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    from evals.calibration import export_trees

    depth = int(setting["depth"])
    parts = [(q.features(search, depth)) for q in queries]
    x = np.vstack([m for _, m in parts])
    y = np.concatenate([q.labels(search, ids) for q, (ids, _) in zip(queries, parts, strict=True)])
    spec = MODELS[setting["model"]]
    common: dict[str, Any] = {
        "version": version,
        "embedder": search.model_name,
        "fusion": {k: float(v) for k, v in asdict(search.weights).items()},
        "kind": spec["kind"],
        "features": list(FEATURES),
        "depth": depth,
    }
    if len(set(y.tolist())) < 2:
        raise ValueError("the training questions have no relevant (or no irrelevant) candidate")
    if spec["kind"] == "trees":
        params = {k: v for k, v in spec.items() if k not in ("kind", "pairwise")}
        gbt = HistGradientBoostingClassifier(**params, **GBT_FIXED, early_stopping=False, random_state=SEED)
        base, trees = export_trees(gbt.fit(x, y))
        return Reranker(**common, trees=trees, base=base)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    if spec.get("pairwise"):
        # RankNet-style pairs: (relevant - irrelevant) of one question is a positive example, its
        # negation a negative one; no intercept, so the score only orders within a question.
        diffs: list[np.ndarray] = []
        start = 0
        for ids, _ in parts:
            labels, rows = y[start : start + len(ids)], z[start : start + len(ids)]
            start += len(ids)
            for good in rows[labels == 1]:
                diffs.extend(good - bad for bad in rows[labels == 0])
        if not diffs:
            raise ValueError("no question has both a relevant and an irrelevant candidate")
        d = np.array(diffs)
        pair_x, pair_y = np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))]
        logistic = LogisticRegression(C=spec["C"], max_iter=5000, fit_intercept=False).fit(pair_x, pair_y)
        return Reranker(**common, mean=mean.tolist(), scale=scale.tolist(), coef=logistic.coef_[0].tolist())
    logistic = LogisticRegression(C=spec["C"], max_iter=5000).fit(z, y)
    return Reranker(
        **common,
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=logistic.coef_[0].tolist(),
        intercept=float(logistic.intercept_[0]),
    )


def settings_grid() -> list[dict[str, Any]]:
    return [
        {"model": m, "depth": d, "corpus": c} for m, d, c in itertools.product(MODELS, DEPTHS, (False, True))
    ]


def cross_validate(
    search: ProcedureSearch,
    queries: Sequence[Query],
    extra: Sequence[Query] = (),
    grid: Sequence[dict[str, Any]] | None = None,
    folds: int = FOLDS,
) -> list[dict[str, Any]]:
    """Grouped k-fold inside ``queries`` (the tuning half): one row per setting, plus ``fusion``
    (no re-ranker) on the same folds. ``extra`` (corpus questions) join the training folds of
    settings with ``corpus`` on."""
    from sklearn.model_selection import GroupKFold

    groups = np.array([q.group for q in queries])
    splits = list(
        GroupKFold(n_splits=min(folds, len(set(groups)))).split(np.zeros(len(queries)), groups=groups)
    )

    def mean_over_folds(make: Any) -> dict[str, float]:
        total = {"recall@1": 0.0, "recall@5": 0.0, "mrr": 0.0}
        for train, test in splits:
            test_queries = [queries[i] for i in test]
            figures = score_queries(search, test_queries, make([queries[i] for i in train]))
            for key, value in figures.items():
                total[key] += value * len(test)
        return {k: v / len(queries) for k, v in total.items()}

    rows = [{"setting": "fusion", **mean_over_folds(lambda _train: None)}]
    for setting in grid or settings_grid():
        started = time.process_time()

        def make(train: list[Query], setting: dict[str, Any] = setting) -> Reranker:
            return fit_model(search, [*train, *(extra if setting["corpus"] else ())], setting)

        figures = mean_over_folds(make)
        rows.append({"setting": setting, **figures, "cpu_s": round(time.process_time() - started, 1)})
    return rows


def choose(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The setting to ship (see the module docstring), or None: the fusion alone is best."""
    base = rows[0]
    eligible = [r for r in rows[1:] if r["recall@5"] >= base["recall@5"] - 1e-9]
    best = max(eligible, key=lambda r: (round(r["mrr"] + r["recall@1"], 9), -r.get("cpu_s", 0)), default=None)
    if best is None or best["mrr"] + best["recall@1"] <= base["mrr"] + base["recall@1"]:
        return None
    return dict(best["setting"])


def fit_tuning(
    search: ProcedureSearch,
    tuning: Sequence[dict[str, Any]],
    *,
    grid: Sequence[dict[str, Any]] | None = None,
    folds: int = FOLDS,
    dense_lists: DenseLists | None = None,
) -> tuple[Reranker | None, list[dict[str, Any]]]:
    """Cross-validate on ``tuning`` (tuning-half questions only), refit the chosen setting on all of
    them: (the reranker or None, the CV table). ``dense_lists``: see :func:`collect`."""
    queries = collect(search, tuning, dense_lists=dense_lists)
    oof = sum(q["id"] in (dense_lists or {}) for q in tuning)
    grid = list(grid or settings_grid())
    extra = collect(search, corpus_questions(search), "corpus") if any(s["corpus"] for s in grid) else []
    table = cross_validate(search, queries, extra, grid, folds)
    chosen = choose(table)
    if chosen is None:
        return None, table
    sha256 = hashlib.sha256(
        json.dumps(sorted((q.id, q.question, q.gold) for q in queries)).encode()
    ).hexdigest()
    digest = sha256[:12]
    model = fit_model(search, [*queries, *(extra if chosen["corpus"] else ())], chosen, version=digest)
    cv = next(r for r in table if r["setting"] == chosen)
    model.meta = {
        "setting": chosen,
        "questions": len(queries),
        "corpus_questions": len(extra) if chosen["corpus"] else 0,
        "dataset": digest,
        "dataset_sha256": sha256,  # the tuning-half manifest hash the registry records
        "cv": {k: round(cv[k], 4) for k in ("recall@1", "recall@5", "mrr")},
        "cv_fusion": {k: round(table[0][k], 4) for k in ("recall@1", "recall@5", "mrr")},
        "folds": folds,
        "grouped_by": "first gold procedure",
        "out_of_fold_dense": oof,  # tuning questions whose dense list came from a model not trained on them
    }
    return model, table


def train_and_gate(
    search: ProcedureSearch, dataset: Path, *, folds: int = FOLDS, dense_lists: DenseLists | None = None
) -> dict[str, Any]:
    """``repairdesk model train reranker``: fit on the tuning half (above), write the challenger
    beside the serving path, then let the retriever gate (evals/retrieval_eval.py ``model_gate``:
    same held-out questions, paired bootstrap intervals) compare fusion alone with fusion + the
    challenger. Writes nothing where the search loads it: the caller (app/cli/reranker_models.py)
    registers the challenger and serves it on a pass. The held-out half chooses nothing here but
    that pass or fail, as for every model the gate judges."""
    from evals.retrieval_eval import evaluate, load_questions, model_gate, split_of
    from tools.retrieval.rerank import challenger_path

    tuning = [q for q in load_questions(dataset) if split_of(q["id"]) == "tuning"]
    model, table = fit_tuning(search, tuning, folds=folds, dense_lists=dense_lists)
    out: dict[str, Any] = {"cv": table, "written": None, "gate": None}
    if model is None:
        return out
    path = model.save(challenger_path(search.model_name))
    out["challenger"] = str(path)
    out["meta"] = model.meta
    previous = search.reranker  # the champion: the serving re-ranker, or the fusion alone (None)
    try:
        champion = evaluate(dataset, search, modes=("dense", "hybrid"))
        search.reranker = Reranker.load(path)
        challenger = evaluate(dataset, search, modes=("dense", "hybrid"))
    finally:
        search.reranker = previous
    out["gate"] = model_gate(champion, challenger)
    return out
