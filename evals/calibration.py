"""Fit and measure the confidence calibrator (label: the analyst would approve the proposal unchanged).

Data: the perturbed set's ``train`` split (:mod:`evals.generators.perturbed`) triaged by the current
agent, plus decided cases from the latest corrections export when one exists (their label is the
people's decision: approved unchanged or not). The label of a perturbed row is derived from its gold:
the proposal's action and changes equal the gold ones. Measured on the ``held-out`` split (by
source case, so no case's perturbations are on both sides): ECE, Brier, AUROC and reliability bins,
overall and per exception code.

Model (:class:`tools.calibration.Calibrator`): gradient-boosted trees (scikit-learn's histogram
boosting, :data:`GBT_PARAMS`) or the standardised logistic regression, whichever has the lower
grouped out-of-fold log loss on the training samples; both keep the signs :func:`monotonic` names
(the trees by monotone constraints, the regression by bounded weights: :class:`MonotoneLogistic`);
a sigmoid (Platt) curve
fitted on grouped out-of-fold scores (groups = source cases) maps the score to a probability.
Isotonic is the alternative (``method="isotonic"``); on the perturbed set's held-out split sigmoid
measured lower ECE and kept the ranking (isotonic's ties cost AUROC). The trees are exported node
by node into the JSON artefact (no pickle), and checked to score exactly as the fitted model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np

from evals.base import SuiteOptions
from evals.stats import calibration
from tools.calibration import Calibrator

MIN_ROWS = 20
# The floors on held-out data: what a calibrator must reach to be promoted.
ECE_FLOOR = 0.05
AUROC_FLOOR = 0.95


@dataclass
class Sample:
    features: dict[str, float]
    label: int
    code: str  # the code the proposal was made under
    group: str  # the source case: folds never split one
    split: str


def collect(rows: list[dict[str, Any]], options: SuiteOptions | None = None) -> list[Sample]:
    """Triage ``rows`` (perturbed rows) and turn each into a labelled sample."""
    from evals.suites import perturbed as suite

    options = options or SuiteOptions(progress=False)
    options.keep_calibration = True
    samples = []
    for result in suite.score(rows, options):
        record = result.get("calibration") or {}
        samples.append(
            Sample(
                features=dict(record.get("features") or {}),
                label=int(bool(result["metrics"]["exact"])),
                code=str(result.get("predicted_code") or "UNKNOWN"),
                group=str(result.get("source_id") or result["id"]),
                split=str(result.get("split") or "train"),
            )
        )
    return samples


def decided_samples(options: SuiteOptions | None = None) -> list[Sample]:
    """Samples from the latest corrections export, when one exists.

    Each decided case is replayed through the current agent; its label is 1 when the replayed
    proposal equals what people finally applied (action and changes), 0 otherwise. Rejections that
    named no correct action carry no label and are left out.
    """
    from evals.suites import corrections
    from evals.suites.agent import run_cases, score

    options = options or SuiteOptions(progress=False)
    if not corrections.exists(options):
        return []
    options.keep_calibration = True
    records, _ = corrections.load(options)
    rows = [
        {"id": r["case_id"], "case": r["case"], "expected": r["label"]}
        for r in records
        if (r.get("label") or {}).get("action")
    ]
    out = []
    for row, proposal, _latency in run_cases(rows, options, desc="decided", refdata=options.refdata):
        record = proposal.calibration or {}
        features = record.get("features")
        if isinstance(features, dict):
            label = int(score(proposal, row["expected"])["exact"])
            code = str(proposal.exception_code or "UNKNOWN")
            out.append(Sample(cast(dict[str, float], features), label, code, f"decided:{row['id']}", "train"))
    return out


def matrix(samples: list[Sample], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[float(s.features.get(n, 0.0) or 0.0) for n in names] for s in samples])
    y = np.array([s.label for s in samples], dtype=float)
    return x, y


# The trees: shallow, slow learning, leaves of at least 20 samples; the grid point (depth 2-4, rate
# 0.05-0.1, 100-200 trees, leaves 10-20) with the lowest grouped out-of-fold log loss on the train split
# (never chosen on held-out rows).
GBT_PARAMS: dict[str, Any] = {
    "max_depth": 4,
    "learning_rate": 0.05,
    "max_iter": 100,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
}


# Domain knowledge the trees must respect (a sample of perturbations can teach the opposite by chance:
# rows without a customer id mostly kept their right code): these never raise the confidence ...
NEVER_RAISE = (
    "no_customer",
    "contradictions",
    "repair_contradicted",
    "guard_failed",
    "document_errors",
    "checks_invalid",
    "code_unknown",
)
# ... and these never lower it.
NEVER_LOWER = ("evidence_agrees", "supports", "ssi_name_score", "extraction_confidence")


def monotonic(names: list[str]) -> list[int]:
    return [-1 if n in NEVER_RAISE else 1 if n in NEVER_LOWER else 0 for n in names]


class MonotoneLogistic:
    """L2-regularised logistic regression (scikit-learn's objective: ``C`` times the summed log loss
    plus half the squared weights) whose weights keep the signs :func:`monotonic` names: the same
    domain knowledge the trees respect, so neither model can learn from the perturbation mix that a
    missing customer id or a contradiction raises the confidence."""

    def __init__(self, c: float, signs: list[int]) -> None:
        self.c, self.signs = c, signs

    def fit(self, x: np.ndarray, y: np.ndarray) -> MonotoneLogistic:
        from scipy.optimize import minimize

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            z = x @ w[:-1] + w[-1]
            p = 1.0 / (1.0 + np.exp(-z))
            value = self.c * float(np.sum(np.logaddexp(0.0, z) - y * z)) + 0.5 * float(w[:-1] @ w[:-1])
            grad = np.append(self.c * (x.T @ (p - y)) + w[:-1], self.c * float(np.sum(p - y)))
            return value, grad

        bounds = [(None, 0.0) if s < 0 else (0.0, None) if s > 0 else (None, None) for s in self.signs]
        found = minimize(
            loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)]
        )
        self.coef_, self.intercept_ = found.x[None, :-1], found.x[-1:]
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-(x @ self.coef_[0] + self.intercept_[0])))
        return np.column_stack([1.0 - p, p])


def _estimator(kind: str, c: float, names: list[str]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    if kind == "gbt":
        return HistGradientBoostingClassifier(
            **GBT_PARAMS, early_stopping=False, monotonic_cst=monotonic(names)
        )
    return MonotoneLogistic(c, monotonic(names))


def export_trees(model: Any) -> tuple[float, list[dict[str, list[float]]]]:
    """A fitted binary ``HistGradientBoostingClassifier`` as (base log-odds, node arrays per tree)."""
    trees: list[dict[str, list[float]]] = []
    columns = {"feature": "feature_idx", "threshold": "num_threshold", "left": "left", "right": "right"}
    columns |= {"leaf": "is_leaf", "value": "value"}
    for (predictor,) in model._predictors:  # binary: one tree per iteration
        nodes = predictor.nodes
        # integers stay integers in the JSON (indices, flags); thresholds and values are floats
        trees.append({key: nodes[column].tolist() for key, column in columns.items()})
    return float(np.ravel(model._baseline_prediction)[0]), trees


def fit(
    samples: list[Sample],
    *,
    c: float = 1.0,
    folds: int = 5,
    method: str = "sigmoid",
    model: str = "auto",
    version: str | None = None,
) -> Calibrator:
    """A calibrator fitted on ``samples`` (see the module docstring); ``model`` ``gbt``, ``logistic``
    or ``auto`` (the one with the lower grouped out-of-fold log loss)."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import GroupKFold

    from tools.errors import ValidationError

    if len(samples) < MIN_ROWS or len({s.label for s in samples}) < 2:
        raise ValidationError(
            f"need at least {MIN_ROWS} samples with both labels to fit", source="calibrator"
        )
    names = sorted({name for s in samples for name in s.features})
    x, y = matrix(samples, names)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    groups = np.array([s.group for s in samples])
    n_folds = min(folds, len(set(groups)))

    def inputs(kind: str) -> np.ndarray:
        # the trees split raw values; the logistic regression wants them standardised
        return x if kind == "gbt" else (x - mean) / scale

    def out_of_fold(kind: str) -> np.ndarray:
        z, oof = inputs(kind), np.zeros(len(y))
        for train, test in GroupKFold(n_splits=n_folds).split(z, y, groups):
            if len(set(y[train])) < 2:
                oof[test] = y[train].mean()
                continue
            oof[test] = _estimator(kind, c, names).fit(z[train], y[train]).predict_proba(z[test])[:, 1]
        return oof

    if model == "auto":  # the one whose grouped out-of-fold log loss is lower: few decisions favour
        # the logistic regression, many the trees
        candidates = {kind: out_of_fold(kind) for kind in ("gbt", "logistic")}
        model = min(candidates, key=lambda kind: log_loss(y, np.clip(candidates[kind], 1e-6, 1 - 1e-6)))
        oof = candidates[model]
    else:
        oof = out_of_fold(model)
    z = inputs(model)
    final = _estimator(model, c, names).fit(z, y)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(oof, y)
    clipped = np.clip(oof, 1e-6, 1 - 1e-6)
    platt = LogisticRegression(C=1e6, max_iter=5000).fit(np.log(clipped / (1 - clipped))[:, None], y)
    if model == "gbt":
        base, trees = export_trees(final)
        coef, intercept, mean, scale = [0.0] * len(names), 0.0, np.zeros(len(names)), np.ones(len(names))
        params: dict[str, Any] = {
            **GBT_PARAMS,
            "folds": n_folds,
            "model": f"gbt+{method}",
            "never_raise": list(NEVER_RAISE),
            "never_lower": list(NEVER_LOWER),
        }
    else:
        base, trees = 0.0, []
        coef, intercept = final.coef_[0].tolist(), float(final.intercept_[0])
        params = {
            "C": c,
            "folds": n_folds,
            "model": f"logistic+{method}",
            "never_raise": list(NEVER_RAISE),
            "never_lower": list(NEVER_LOWER),
        }
    # the version names the data and how it was fitted: another model on the same data is another version
    data_hash = hashlib.sha256(
        json.dumps([[(s.features, s.label) for s in samples], params, method], sort_keys=True).encode()
    )
    calibrator = Calibrator(
        version=version or f"cal-{data_hash.hexdigest()[:10]}",
        features=names,
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=coef,
        intercept=intercept,
        iso_x=[float(v) for v in iso.X_thresholds_],
        iso_y=[float(v) for v in iso.y_thresholds_],
        method=method,
        platt=[float(platt.coef_[0][0]), float(platt.intercept_[0])],
        trees=trees,
        base=base,
        meta={
            "trained_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "samples": len(samples),
            "positives": int(y.sum()),
            "params": params,
        },
    )
    # the exported artefact must score exactly as the fitted model: a wrong export fails here, not live
    if not np.allclose(calibrator.score(x), final.predict_proba(z)[:, 1], atol=1e-6):
        raise ValidationError("the exported calibrator disagrees with the fitted model", source="calibrator")
    return calibrator


def scores(probabilities: list[float], labels: list[int]) -> dict[str, float]:
    """ECE (10 bins), Brier and AUROC of probabilities against 0/1 labels."""
    from sklearn.metrics import roc_auc_score

    p, y = np.asarray(probabilities, dtype=float), np.asarray(labels, dtype=float)
    out = {
        "ece": calibration(p.tolist(), [bool(v) for v in y]).ece,
        "brier": float(np.mean((p - y) ** 2)),
        "n": float(len(y)),
        "positives": float(y.sum()),
    }
    out["auroc"] = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")
    return out


def evaluate(model: Calibrator, samples: list[Sample]) -> dict[str, Any]:
    """Overall and per-code scores and reliability bins of ``model`` on ``samples``."""
    x, y = matrix(samples, model.features)
    p = model.probabilities(x)
    overall = scores(p.tolist(), y.astype(int).tolist())
    per_code: dict[str, Any] = {}
    for code in sorted({s.code for s in samples}):
        idx = [i for i, s in enumerate(samples) if s.code == code]
        per_code[code] = scores(p[idx].tolist(), y[idx].astype(int).tolist())
    bins = calibration(p.tolist(), [bool(v) for v in y]).bins
    return {"overall": overall, "per_code": per_code, "bins": bins, "probabilities": p.tolist()}


def cross_fitted(samples: list[Sample], folds: int = 5, **options: Any) -> dict[str, Any]:
    """Grouped K-fold cross-fitted scores over all ``samples`` (every source case, both splits).

    Each sample is scored by a calibrator :func:`fit` (grid, model choice and curve included) on the
    other folds only, so no row is scored by a model that saw its source case. An *additional*
    figure beside the fixed held-out split: it uses every source case instead of 40% of them, so it
    carries less sampling noise and none of one split's case mix, but it is no held-out measurement
    of the one artefact that serves (that is :func:`evaluate` on the held-out split).
    """
    from sklearn.model_selection import GroupKFold

    groups = np.array([s.group for s in samples])
    n_folds = min(folds, len(set(groups)))
    p = np.zeros(len(samples))
    for train, test in GroupKFold(n_splits=n_folds).split(np.zeros(len(samples)), None, groups):
        model = fit([samples[i] for i in train], **options)
        x, _ = matrix([samples[i] for i in test], model.features)
        p[test] = model.probabilities(x)
    labels = [s.label for s in samples]
    return {"overall": scores(p.tolist(), labels), "folds": n_folds, "groups": len(set(groups))}
