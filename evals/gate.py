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


# Paired checks: per-question values of a measured baseline, compared question by question.
#
# Baseline format (optional ``paired`` key next to ``metrics``)::
#
#     "paired": {"samples": "retrieval_heldout.json", "split": "held-out",
#                "metrics": {"retrieval.hybrid.recall@5": {"tolerance": 0.0}, ...}}
#
# ``samples`` (next to the baseline file) holds ``{"metric name": {"question id": value}}`` measured
# on main for the questions of ``split`` (tuning/held-out halves of evals/retrieval_eval.py; RAG rows
# ``q:<id>`` belong to their question's half). A metric fails when the paired bootstrap 95% interval
# of mean(run - baseline) over the same questions lies wholly below ``-tolerance`` (a loss that is
# not noise), or when the run lacks some of those questions. Why paired: the two runs answer the
# same questions, so per-question differences cancel the questions' own difficulty and a real
# regression of a few questions shows where two independent means would overlap.


@dataclass(frozen=True)
class PairedResult:
    metric: str
    questions: int
    baseline: float
    observed: float
    diff: float
    ci95: tuple[float, float]
    tolerance: float
    failure: str = ""


def split_of_sample(sample_id: str) -> str:
    from evals.retrieval_eval import split_of

    return split_of(sample_id.split(":", 1)[1] if sample_id.startswith("q:") else sample_id)


def per_question(rows: list[dict[str, Any]], metric: str, split: str | None) -> dict[str, float]:
    """``{sample id: value}`` of ``metric`` (``<suite>.<name>``) in a run's sample rows."""
    suite, name = metric.split(".", 1)
    found: dict[str, float] = {}
    for row in rows:
        if row.get("suite") != suite or (split is not None and split_of_sample(str(row["id"])) != split):
            continue
        value = row.get("metrics", {}).get(name)
        if value is not None and value == value:
            found[str(row["id"])] = float(value)
    return found


def record_paired(baseline: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """The samples file's content for ``baseline['paired']`` from a run's rows (run on main)."""
    spec = baseline["paired"]
    return {m: per_question(rows, m, spec.get("split")) for m in spec["metrics"]}


def check_paired(
    baseline: dict[str, Any], rows: list[dict[str, Any]], samples: dict[str, dict[str, float]]
) -> list[PairedResult]:
    """Each paired metric of ``baseline`` against the run's rows (see above)."""
    from evals.stats import paired_bootstrap

    spec = baseline.get("paired") or {}
    results: list[PairedResult] = []
    for metric, options in spec.get("metrics", {}).items():
        tolerance = float(options.get("tolerance", 0.0))
        base = samples.get(metric, {})
        observed = per_question(rows, metric, spec.get("split"))
        shared = sorted(set(base) & set(observed))
        missing = len(base) - len(shared)
        if not shared:
            results.append(
                PairedResult(metric, 0, float("nan"), float("nan"), float("nan"), (0.0, 0.0), tolerance,
                             "no question of the baseline in the run")
            )  # fmt: skip
            continue
        a, b = [base[i] for i in shared], [observed[i] for i in shared]
        diff = paired_bootstrap(a, b)
        failure = ""
        if missing:
            failure = f"{missing} baseline question(s) missing from the run"
        elif diff.ci95[1] < -tolerance - 1e-12:
            failure = (
                f"paired loss {diff.value:+.4f} (95% CI {diff.ci95[0]:+.4f}..{diff.ci95[1]:+.4f}) "
                f"beyond tolerance {tolerance}"
            )
        results.append(
            PairedResult(metric, len(shared), sum(a) / len(a), sum(b) / len(b), diff.value, diff.ci95,
                         tolerance, failure)
        )  # fmt: skip
    return results


def read_paired_samples(baseline_path: Path, baseline: dict[str, Any]) -> dict[str, dict[str, float]]:
    spec = baseline.get("paired")
    if not spec:
        return {}
    path = baseline_path.parent / str(spec["samples"])
    try:
        data: dict[str, dict[str, float]] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ValidationError(
            "paired baseline samples not found; record them with `repairdesk eval gate --record`",
            source=str(path),
        ) from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(f"paired samples are not valid JSON ({exc.msg})", source=str(path)) from exc
    return data
