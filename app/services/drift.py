"""Population stability index (PSI) and the fixed confidence bins it is computed over.

PSI compares two distributions over the same categories: ``sum((a - e) * ln(a / e))`` over the
shares ``e`` (reference) and ``a`` (current). Below 0.1 the population is stable, 0.1-0.25 it moved,
above 0.25 it shifted (the usual credit-risk reading, used by the alert rules in
``infra/prometheus/alerts.yml``). A category empty on one side gets a small floor share instead of
zero, so a code that appears for the first time raises the index instead of making it infinite.

Confidence is binned on fixed upper bounds (the Prometheus ``le`` buckets of the confidence
histogram), so a stored reference snapshot and a live window always share the same bins.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping

# Upper bounds of the confidence bins (inclusive): finer where proposals cluster, near the top.
CONFIDENCE_BOUNDS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1.0)
FLOOR_SHARE = 1e-4
STABLE, MOVED = 0.1, 0.25


def confidence_bins(values: Iterable[float]) -> list[int]:
    """Counts per bin of :data:`CONFIDENCE_BOUNDS` (a value above 1 lands in the last bin)."""
    counts = [0] * len(CONFIDENCE_BOUNDS)
    for value in values:
        counts[min(bisect_left(CONFIDENCE_BOUNDS, value), len(CONFIDENCE_BOUNDS) - 1)] += 1
    return counts


def bin_labels() -> list[str]:
    """Readable names of the confidence bins, e.g. ``0.90-0.95``."""
    lows = (0.0, *CONFIDENCE_BOUNDS[:-1])
    return [f"{low:.2f}-{high:.2f}" for low, high in zip(lows, CONFIDENCE_BOUNDS, strict=True)]


def psi(reference: Mapping[str, float], current: Mapping[str, float]) -> float | None:
    """PSI of ``current`` against ``reference`` (counts per category); ``None`` if either is empty."""
    expected_total = sum(reference.values())
    actual_total = sum(current.values())
    if expected_total <= 0 or actual_total <= 0:
        return None
    total = 0.0
    for key in set(reference) | set(current):
        expected = max(reference.get(key, 0) / expected_total, FLOOR_SHARE)
        actual = max(current.get(key, 0) / actual_total, FLOOR_SHARE)
        total += (actual - expected) * math.log(actual / expected)
    return total


def reading(value: float | None) -> str:
    """How a PSI value reads: ``stable``, ``moved``, ``shifted`` (or ``n/a`` without enough data)."""
    if value is None:
        return "n/a"
    return "stable" if value < STABLE else "moved" if value < MOVED else "shifted"
