"""Regression gate: a run's metrics against a baseline file with per-metric tolerances.

Baseline format (``evals/baselines/main.json``)::

    {"suites": ["retrieval", "agent"], "limit": 40,
     "metrics": {"retrieval.hybrid.recall@5": {"value": 0.97, "tolerance": 0.02},
                 "agent.unsafe_rate": {"value": 0.0, "tolerance": 0.0, "higher_is_better": false}}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.errors import ValidationError


@dataclass(frozen=True)
class GateFailure:
    metric: str
    baseline: float
    observed: float | None
    tolerance: float
    reason: str


def read_baseline(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ValidationError("baseline file not found", source=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(f"baseline is not valid JSON ({exc.msg})", source=str(path)) from exc
    if not isinstance(data.get("metrics"), dict) or not data["metrics"]:
        raise ValidationError("baseline has no 'metrics' object", source=str(path))
    return data


def check(baseline: dict[str, Any], observed: dict[str, dict[str, Any]]) -> list[GateFailure]:
    """Every baseline metric that the run is missing or worse than by more than its tolerance."""
    failures: list[GateFailure] = []
    for name, spec in baseline["metrics"].items():
        base, tolerance = float(spec["value"]), float(spec.get("tolerance", 0.0))
        higher_is_better = bool(spec.get("higher_is_better", True))
        if name not in observed:
            failures.append(GateFailure(name, base, None, tolerance, "metric missing from the run"))
            continue
        value = float(observed[name]["value"])
        worse = base - value if higher_is_better else value - base
        if worse > tolerance + 1e-12:
            direction = "below" if higher_is_better else "above"
            failures.append(
                GateFailure(
                    name,
                    base,
                    value,
                    tolerance,
                    f"{value:.4f} is {direction} {base:.4f} by more than {tolerance}",
                )
            )
    return failures
