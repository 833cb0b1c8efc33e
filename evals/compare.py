"""Champion/challenger: paired comparison of two runs on the same samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.base import read_run
from evals.stats import paired_bootstrap
from tools.errors import ValidationError


def compare_runs(run_a: Path, run_b: Path) -> dict[str, Any]:
    """For every metric both runs measured on the same sample ids: mean(B - A) with a paired 95% CI.

    Raises ValidationError when the runs share no samples (different datasets cannot be paired).
    """
    _, rows_a = read_run(run_a)
    _, rows_b = read_run(run_b)
    by_key_a = {(r["suite"], r["id"]): r for r in rows_a}
    by_key_b = {(r["suite"], r["id"]): r for r in rows_b}
    shared = sorted(set(by_key_a) & set(by_key_b))
    if not shared:
        raise ValidationError(
            "the two runs share no samples; compare runs over the same dataset", source=str(run_b)
        )
    paired: dict[str, tuple[list[float], list[float]]] = {}
    for key in shared:
        metrics_a, metrics_b = by_key_a[key].get("metrics", {}), by_key_b[key].get("metrics", {})
        for name in set(metrics_a) & set(metrics_b):
            va, vb = metrics_a[name], metrics_b[name]
            if va is None or vb is None or va != va or vb != vb:
                continue
            a_list, b_list = paired.setdefault(f"{key[0]}.{name}", ([], []))
            a_list.append(float(va))
            b_list.append(float(vb))
    result: dict[str, Any] = {"paired_samples": len(shared), "metrics": {}}
    for name, (a_values, b_values) in sorted(paired.items()):
        diff = paired_bootstrap(a_values, b_values)
        significant = diff.ci95[0] > 0 or diff.ci95[1] < 0
        result["metrics"][name] = {
            "a": sum(a_values) / len(a_values),
            "b": sum(b_values) / len(b_values),
            "difference": diff.value,
            "ci95": list(diff.ci95),
            "n": diff.n,
            "verdict": ("B better" if diff.value > 0 else "A better")
            if significant
            else "no significant difference",
        }
    return result
