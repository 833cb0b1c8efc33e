"""Fit and measure the confidence calibrator (label: the analyst would approve the proposal unchanged).

Data: the perturbed set's ``train`` split (:mod:`evals.generators.perturbed`) triaged by the current
agent, plus decided cases from the latest corrections export when one exists (their label is the
people's decision: approved unchanged or not). The label of a perturbed row is derived from its gold:
the proposal's action and changes equal the gold ones. Measured on the ``held-out`` split (by
source case, so no case's perturbations are on both sides): ECE, Brier, AUROC and reliability bins,
overall and per exception code.

Model (:class:`tools.calibration.Calibrator`): standardised logistic regression; a sigmoid (Platt)
curve fitted on grouped out-of-fold scores (groups = source cases) maps its score to a probability.
Isotonic is the alternative (``method="isotonic"``); on the perturbed set's held-out split sigmoid
measured lower ECE and kept the ranking (isotonic's ties cost AUROC).
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


def fit(
    samples: list[Sample],
    *,
    c: float = 1.0,
    folds: int = 5,
    method: str = "sigmoid",
    version: str | None = None,
) -> Calibrator:
    """A calibrator fitted on ``samples`` (see the module docstring)."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
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
    z = (x - mean) / scale
    groups = np.array([s.group for s in samples])
    oof = np.zeros(len(y))
    n_folds = min(folds, len(set(groups)))
    for train, test in GroupKFold(n_splits=n_folds).split(z, y, groups):
        if len(set(y[train])) < 2:
            oof[test] = y[train].mean()
            continue
        model = LogisticRegression(C=c, max_iter=5000).fit(z[train], y[train])
        oof[test] = model.predict_proba(z[test])[:, 1]
    final = LogisticRegression(C=c, max_iter=5000).fit(z, y)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(oof, y)
    clipped = np.clip(oof, 1e-6, 1 - 1e-6)
    platt = LogisticRegression(C=1e6, max_iter=5000).fit(np.log(clipped / (1 - clipped))[:, None], y)
    data_hash = hashlib.sha256(json.dumps([(s.features, s.label) for s in samples], sort_keys=True).encode())
    return Calibrator(
        version=version or f"cal-{data_hash.hexdigest()[:10]}",
        features=names,
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=final.coef_[0].tolist(),
        intercept=float(final.intercept_[0]),
        iso_x=[float(v) for v in iso.X_thresholds_],
        iso_y=[float(v) for v in iso.y_thresholds_],
        method=method,
        platt=[float(platt.coef_[0][0]), float(platt.intercept_[0])],
        meta={
            "trained_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "samples": len(samples),
            "positives": int(y.sum()),
            "params": {"C": c, "folds": n_folds, "model": f"logistic+{method}"},
        },
    )


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
