"""STP suite: how much would go straight through, and how sure we are that it would be right.

The agent triages every case of the agent set, the adversarial set and, where this checkout has its
generator, the held-out split of the perturbed set (the calibrator is fitted on the other); each
proposal is a point ``(exception code, action, confidence, wrong)``, *wrong* meaning it is not exactly
the expected action and changes (what an analyst would approve unchanged). The source cases are split
in two fixed halves (:func:`evals.retrieval_eval.split_of`): a policy is fitted on the ``tuning`` half
exactly as ``repairdesk stp fit`` fits one on decided cases
(:func:`app.services.stp.build_policy`: per code/action, the threshold where the 95% Clopper-Pearson
bound of the wrong-repair rate is <= ``REPAIRDESK_STP_MAX_WRONG_RATE``, with at least
``REPAIRDESK_STP_MIN_COUNT`` cases), then applied to the ``held-out`` half with the service's own rule
(:func:`app.services.stp.verdict`: guard passed, not a hand-over action, not four-eyes, at or over the
threshold; amount limits are the operator's setting and are left out).

Per held-out sample: ``straight_through`` (1 when the rule applies it) and ``wrong_straight_through``
(1 when it is applied and wrong); the run's ``stp.straight_through`` is the STP share. ``extras``
carry the fitted rules (per code/action: n, threshold, bound) and the held-out figures with their own
bound, which ``repairdesk eval run --suite stp`` prints.
"""

from __future__ import annotations

from typing import Any

from evals import datasets
from evals.base import SuiteOptions, SuiteResult
from evals.retrieval_eval import split_of
from evals.suites.agent import run_cases, score

NAME = "stp"
STP_DATASETS = ("agent_cases", "adversarial_cases")


def _perturbed_held_out() -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """The perturbed set's held-out split (issue 13, item 3) where this checkout has its generator:
    only that split, because the calibrator is fitted on the other one."""
    try:
        from evals.generators import perturbed  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    found: tuple[list[dict[str, Any]], dict[str, Any]] = perturbed.load(split="held-out")
    return found


def _rows(options: SuiteOptions) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    listed = datasets.read_manifest()["datasets"]
    rows: list[dict[str, Any]] = []
    entries: dict[str, dict[str, Any]] = {}
    for name in STP_DATASETS:
        if name not in listed:
            continue
        found, entry = datasets.load(name)
        rows.extend(found[: options.limit] if options.limit else found)
        entries[name] = entry
    perturbed = _perturbed_held_out()
    if perturbed is not None:
        found, entry = perturbed
        rows.extend(found[: options.limit] if options.limit else found)
        entries["perturbed"] = entry
    return rows, entries


def points_of(rows: list[dict[str, Any]], options: SuiteOptions) -> list[dict[str, Any]]:
    """One point per case: the proposal's key, confidence and guard, and whether it was wrong."""
    points = []
    for row, proposal, _latency in run_cases(rows, options, desc=NAME, refdata=options.refdata):
        exact = score(proposal, row["expected"])["exact"]
        points.append(
            {
                "id": row["id"],
                # the halves split by source case: a case's perturbations never straddle them
                "group": row.get("source_id") or row["id"],
                "exception_code": proposal.exception_code or "UNKNOWN",
                "action": proposal.action,
                "confidence": float(proposal.confidence or 0.0),
                "wrong": not exact,
                "proposal": proposal.dump(),
            }
        )
    return points


def _half(point: dict[str, Any]) -> str:
    return split_of(str(point.get("group") or point["id"]))


def evaluate(points: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Fit on the tuning half, apply to the held-out half: sample rows and the suite's extras."""
    from app.services.stp import StpOptions, build_policy, verdict
    from app.settings import Settings
    from tools.stp_bounds import clopper_pearson_upper

    settings = Settings()
    fitting = [p for p in points if _half(p) == "tuning"]
    held_out = [p for p in points if _half(p) != "tuning"]
    policy = build_policy(
        fitting,
        target=settings.stp_max_wrong_rate,
        min_count=settings.stp_min_count,
        source={"kind": "eval", "points": len(fitting)},
    )
    options = StpOptions(enabled=True, max_amount=float("inf"))
    rows = []
    for point in held_out:
        found = verdict(
            point["proposal"], amount=0.0, currency=None, policy=policy, options=options, kill_switch=False
        )
        applied = found.eligible
        rows.append(
            {
                "id": point["id"],
                "exception_code": point["exception_code"],
                "action": point["action"],
                "confidence": point["confidence"],
                "correct": not point["wrong"],
                "reason": found.reason,
                "metrics": {
                    "straight_through": float(applied),
                    "wrong_straight_through": float(applied and point["wrong"]),
                    "wrong_when_applied": float(point["wrong"]) if applied else None,
                },
            }
        )
    applied_rows = [r for r in rows if r["metrics"]["straight_through"]]
    wrong = sum(1 for r in applied_rows if not r["correct"])
    extras = {
        "policy": {k: policy[k] for k in ("method", "target", "level", "min_count", "rules", "overall")},
        "held_out": {
            "n": len(rows),
            "applied": len(applied_rows),
            "share": len(applied_rows) / len(rows) if rows else 0.0,
            "wrong": wrong,
            "upper_bound": clopper_pearson_upper(wrong, len(applied_rows), policy["level"]),
        },
        "split": {"fitting": len(fitting), "held_out": len(held_out)},
    }
    return rows, extras


def run(options: SuiteOptions) -> SuiteResult:
    rows, entries = _rows(options)
    samples, extras = evaluate(points_of(rows, options))
    return SuiteResult(NAME, samples, datasets=entries, extras=extras)
