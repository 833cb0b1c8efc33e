"""Statistics for evaluation runs: bootstrap intervals, paired differences, calibration.

All functions are pure and deterministic for a given seed, so a rerun gives the same report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 2000


@dataclass(frozen=True)
class Estimate:
    value: float
    n: int
    ci95: tuple[float, float]

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "n": self.n, "ci95": [self.ci95[0], self.ci95[1]]}


def bootstrap_mean(values: Sequence[float], *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Estimate:
    """Mean of ``values`` with a percentile bootstrap 95% interval (degenerate for n < 2)."""
    data = np.asarray(values, dtype=float)
    n = int(data.size)
    if n == 0:
        return Estimate(float("nan"), 0, (float("nan"), float("nan")))
    mean = float(data.mean())
    if n == 1:
        return Estimate(mean, 1, (mean, mean))
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Estimate(mean, n, (float(low), float(high)))


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> Estimate:
    """Mean of ``b - a`` over paired samples with a bootstrap 95% interval (resampling pairs)."""
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} vs {len(b)}")
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return bootstrap_mean(diff.tolist(), resamples=resamples, seed=seed)


@dataclass(frozen=True)
class Calibration:
    bins: list[dict[str, float]]  # each: lower, upper, count, confidence (mean), accuracy (mean)
    ece: float


def calibration(confidences: Sequence[float], correct: Sequence[bool], *, n_bins: int = 10) -> Calibration:
    """Reliability bins and expected calibration error: sum over bins of |acc - conf| * share."""
    conf = np.clip(np.asarray(confidences, dtype=float), 0.0, 1.0)
    hits = np.asarray(correct, dtype=float)
    total = conf.size
    bins: list[dict[str, float]] = []
    ece = 0.0
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    for i in range(n_bins):
        lower, upper = float(edges[i]), float(edges[i + 1])
        mask = (conf > lower) & (conf <= upper) if i else (conf >= lower) & (conf <= upper)
        count = int(mask.sum())
        if not count:
            continue
        mean_conf, accuracy = float(conf[mask].mean()), float(hits[mask].mean())
        bins.append(
            {"lower": lower, "upper": upper, "count": count, "confidence": mean_conf, "accuracy": accuracy}
        )
        ece += abs(accuracy - mean_conf) * count / total
    return Calibration(bins=bins, ece=float(ece) if total else float("nan"))


def brier(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    conf, hits = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    return float(np.mean((conf - hits) ** 2)) if conf.size else float("nan")


def auroc(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    """Probability that a correct sample outranks a wrong one (ties count half); NaN without both."""
    conf, hits = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=bool)
    pos, neg = conf[hits], conf[~hits]
    if not pos.size or not neg.size:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (pos.size * neg.size))


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")
