"""Risk-controlled thresholds for straight-through processing (STP): exact binomial bounds, pure.

A straight-through policy may auto-apply a proposal of one exception code and action only at a
confidence threshold ``t`` where, on held-out decided cases, the one-sided 95% upper confidence bound
of the wrong-repair rate among proposals with confidence >= ``t`` is at most the target (1%).

The bound is Clopper-Pearson's: the ``p`` at which observing ``k`` or fewer wrong repairs in ``n`` has
probability ``1 - level``. It is exact (never below the nominal coverage), so with no wrong repair at
all it still needs ``n >= 299`` cases to reach 1% (``1 - 0.05 ** (1/299) = 0.00997``).

The threshold is chosen by fixed-sequence testing (the "learn then test" recipe): candidate
thresholds are the distinct confidences, tested from the highest down; each test is "the bound at
this threshold is <= target" and the walk stops at the first failure. Testing in a fixed order and
stopping at the first failure keeps the chance of certifying any threshold whose true wrong-repair
rate exceeds the target at most ``1 - level``, without a multiple-testing correction, whereas taking
the lowest threshold that happens to pass anywhere would not. A key with fewer than ``min_count``
cases at its best threshold is not eligible at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_LEVEL = 0.95
DEFAULT_TARGET = 0.01
DEFAULT_MIN_COUNT = 300
_ITERATIONS = 200  # bisection steps: far past double precision


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (no overflow for large n)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        for i in range(k + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def clopper_pearson_upper(k: int, n: int, level: float = DEFAULT_LEVEL) -> float:
    """One-sided ``level`` upper confidence bound of a binomial rate after ``k`` events in ``n`` trials.

    ``n == 0`` gives 1.0 (nothing observed bounds nothing); ``k == n`` gives 1.0."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n == 0 or k == n:
        return 1.0
    alpha = 1.0 - level
    if k == 0:
        return 1.0 - alpha ** (1.0 / n)  # closed form of the bisection below
    low, high = k / n, 1.0  # the CDF falls as p rises: find where it crosses alpha
    for _ in range(_ITERATIONS):
        mid = (low + high) / 2.0
        if _binomial_cdf(k, n, mid) > alpha:
            low = mid
        else:
            high = mid
        if high - low < 1e-13:
            break
    return high


@dataclass(frozen=True)
class ThresholdChoice:
    """The outcome of fitting one (exception code, action): eligible or not, and the figures why."""

    eligible: bool
    threshold: float | None  # auto-apply at confidence >= threshold (None: never)
    n: int  # held-out decided cases of this key
    n_at_threshold: int  # of which at or above the threshold (the best tested one when not eligible)
    wrong_at_threshold: int
    upper_bound: float  # the bound at the threshold (or at the best tested one)
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_threshold(
    points: Iterable[tuple[float, bool]],
    *,
    target: float = DEFAULT_TARGET,
    level: float = DEFAULT_LEVEL,
    min_count: int = DEFAULT_MIN_COUNT,
) -> ThresholdChoice:
    """Fixed-sequence choice over ``(confidence, wrong)`` pairs (see the module docstring)."""
    ordered = sorted(((float(c), bool(w)) for c, w in points), key=lambda p: -p[0])
    n = len(ordered)
    if n == 0:
        return ThresholdChoice(False, None, 0, 0, 0, 1.0, "no held-out decisions")
    chosen: tuple[float, int, int, float] | None = None
    best: tuple[int, int, float] = (0, 0, 1.0)  # the last figures tested, for the report
    wrong = 0
    index = 0
    while index < n:
        threshold = ordered[index][0]
        while index < n and ordered[index][0] == threshold:  # all cases at this confidence come in together
            wrong += ordered[index][1]
            index += 1
        if index < min_count:
            best = (index, wrong, clopper_pearson_upper(wrong, index, level))
            continue  # too few yet to test: not a test, so the sequence has not failed
        bound = clopper_pearson_upper(wrong, index, level)
        best = (index, wrong, bound)
        if bound > target:
            break  # the first failure ends the sequence
        chosen = (threshold, index, wrong, bound)
    if chosen is not None:
        threshold, count, errors, bound = chosen
        return ThresholdChoice(
            True,
            threshold,
            n,
            count,
            errors,
            bound,
            f"{errors} wrong in {count} at confidence >= {threshold:g}: bound {bound:.4f} <= {target:g}",
        )
    count, errors, bound = best
    if n < min_count:
        why = f"{n} held-out decisions, fewer than the minimum {min_count}"
    else:
        why = f"bound {bound:.4f} over {target:g} ({errors} wrong in {count}) at every tested threshold"
    return ThresholdChoice(False, None, n, count, errors, bound, why)


def fit_rules(
    points: Sequence[dict[str, Any]],
    *,
    target: float = DEFAULT_TARGET,
    level: float = DEFAULT_LEVEL,
    min_count: int = DEFAULT_MIN_COUNT,
) -> list[dict[str, Any]]:
    """One rule per (exception code, action) among ``points`` (dicts with ``exception_code``,
    ``action``, ``confidence``, ``wrong``), sorted by key; each the key plus its :class:`ThresholdChoice`."""
    groups: dict[tuple[str, str], list[tuple[float, bool]]] = {}
    for point in points:
        key = (str(point["exception_code"]), str(point["action"]))
        groups.setdefault(key, []).append((float(point["confidence"]), bool(point["wrong"])))
    rules = []
    for (code, action), pairs in sorted(groups.items()):
        choice = choose_threshold(pairs, target=target, level=level, min_count=min_count)
        rules.append({"exception_code": code, "action": action, **choice.as_dict()})
    return rules


def overall(
    points: Sequence[dict[str, Any]], rules: Sequence[dict[str, Any]], level: float = DEFAULT_LEVEL
) -> dict[str, Any]:
    """What ``rules`` would auto-apply among ``points``: the share, the wrong ones and their bound."""
    thresholds = {(r["exception_code"], r["action"]): r["threshold"] for r in rules if r.get("eligible")}
    applied = [
        p
        for p in points
        if (t := thresholds.get((str(p["exception_code"]), str(p["action"])))) is not None
        and float(p["confidence"]) >= t
    ]
    wrong = sum(1 for p in applied if p["wrong"])
    return {
        "n": len(points),
        "applied": len(applied),
        "share": len(applied) / len(points) if points else 0.0,
        "wrong": wrong,
        "upper_bound": clopper_pearson_upper(wrong, len(applied), level),
    }
