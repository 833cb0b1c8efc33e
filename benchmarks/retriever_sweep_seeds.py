"""Seed rerun of the recipe sweep's finalists, and the decision rule applied to it (TUNING half only).

Usage (device machine, beside retriever_sweep_gpu.py; torch + transformers + numpy):
    python3 benchmarks/retriever_sweep_seeds.py --bundle B.json --model DIR --out seeds.json
        [--budget 135] [--workers 12] [--device cuda]
Table and decision (any machine, no torch):
    python3 benchmarks/retriever_sweep_seeds.py --table seeds.json

The one-seed sweep (retriever_sweep_gpu.py) ranked recipes by a single training draw each, and one
draw moved pooled recall@5 by as much as the gaps it ranked. This script trains the finalists that
fit the 15-minute CPU budget (``FINALISTS``: the current recipe and its one-factor changes that
ranked highest) with the same 3-fold cross-validation, pairs, loss and served-ranking mirror as
the sweep (it calls its ``Sweep``), in rounds of seeds: every finalist gets each round's seeds, so
the rows are paired by seed; results are written after every round and no task starts after
``--budget``. Seed 13 is the sweep's own seed: its rows must equal the sweep's (a determinism check).

**Decision rule** (fixed before the rerun): over the seeds every finalist completed, the recipe with
the best mean pooled dense recall@5 (ties: mean dense MRR) replaces the current one only if its mean
recall@5 exceeds the current recipe's by more than the seed spread (the standard deviation over
seeds of the current recipe's single-run recall@5) and its estimated CPU training time (the sweep's
"est. min", ``model train retriever`` with ``--fusion-folds 4`` on two cores) is at most 15 minutes.
Otherwise the trainer's defaults stay. The held-out half plays no part.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import retriever_sweep_gpu as g  # the sweep script beside this one (no package)

FINALISTS: dict[str, dict[str, Any]] = {
    "current": dict(g.CURRENT),
    "neg3": g.CURRENT | {"negatives": 3},  # sweep #6
    "batch64": g.CURRENT | {"batch": 64},  # sweep #21
    "repeat5": g.CURRENT | {"repeat": 5},  # sweep #24
}
# The sweep's estimate of `model train retriever` (--fusion-folds 4) on two free cores, minutes.
EST_MINUTES = {"current": 7.0, "neg3": 11.0, "batch64": 7.0, "repeat5": 11.0}
BUDGET_MINUTES = 15.0
ROUNDS: list[tuple[int, ...]] = [
    (14, 15, 16),
    (17, 18, 13),
    *[tuple(range(s, s + 3)) for s in range(19, 49, 3)],
]
METRICS = ("recall@1", "recall@5", "mrr")


# ---------------------------------------------------------------- device run --------------------


def run(args: argparse.Namespace) -> int:
    sweep = g.Sweep(args)

    def summary(cfg: dict[str, Any], seed: int) -> dict[str, Any] | None:
        key = g.config_key(cfg, seed)
        return sweep.summary(key) if key in sweep.results else None

    def write(stage: str) -> None:
        rows = []
        for name, cfg in FINALISTS.items():
            for seeds in ROUNDS:
                for seed in seeds:
                    s = summary(cfg, seed)
                    if s is None:
                        continue
                    rows.append(
                        {
                            "name": name,
                            "seed": seed,
                            "key": s["key"],
                            "config": cfg,
                            "final": s["final"],
                            "gpu_seconds": s["gpu_seconds"],
                            "steps_per_fold": s["steps_per_fold"],
                            "per_question": sweep.per_question(s["key"]),
                        }
                    )
        payload = {
            "stage": stage,
            "elapsed": round(time.time() - sweep.started, 1),
            "args": vars(args),
            "rows": rows,
            "log": sweep.log,
        }
        Path(args.out).write_text(json.dumps(payload, default=str), encoding="utf-8")

    try:
        for i, seeds in enumerate(ROUNDS, 1):
            if sweep.left() <= 0:
                break
            sweep.run_configs([(cfg, s) for s in seeds for cfg in FINALISTS.values()])
            for name, cfg in FINALISTS.items():
                for s in seeds:
                    if (r := summary(cfg, s)) is not None:
                        sweep.say(f"{name} seed {s}: {g.figures(r['final'])}")
            write(f"round {i}")
    finally:
        write("final")
        sweep.pool.terminate()
    return 0


# ---------------------------------------------------------------- analysis (no torch) -----------


def paired_seeds(rows: Sequence[dict[str, Any]]) -> tuple[list[int], dict[str, dict[int, dict[str, Any]]]]:
    """The seeds every finalist present completed, and name -> seed -> row."""
    by: dict[str, dict[int, dict[str, Any]]] = {}
    for row in rows:
        by.setdefault(row["name"], {})[int(row["seed"])] = row
    common = sorted(set.intersection(*(set(v) for v in by.values()))) if by else []
    return common, by


def dense(row: dict[str, Any], metric: str) -> float:
    return float(row["final"]["dense"][metric])


def decide(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The decision rule of the module docstring, over the seeds every finalist completed."""
    seeds, by = paired_seeds(rows)
    if len(seeds) < 2 or "current" not in by:
        return {"seeds": seeds, "winner": "current", "reason": "fewer than two paired seeds"}
    means = {
        name: {m: statistics.mean(dense(runs[s], m) for s in seeds) for m in METRICS}
        for name, runs in by.items()
    }
    best = max(means, key=lambda n: (round(means[n]["recall@5"], 9), round(means[n]["mrr"], 9)))
    spread = statistics.stdev(dense(by["current"][s], "recall@5") for s in seeds)
    margin = means[best]["recall@5"] - means["current"]["recall@5"]
    minutes = EST_MINUTES.get(best, float("inf"))
    if best == "current":
        winner, reason = "current", "the current recipe has the best mean recall@5"
    elif margin <= spread:
        winner, reason = "current", f"{best}: margin {margin:+.4f} not above the seed spread {spread:.4f}"
    elif minutes > BUDGET_MINUTES:
        winner, reason = "current", f"{best}: est. {minutes:g} min over the {BUDGET_MINUTES:g}-minute budget"
    else:
        winner, reason = (
            best,
            f"margin {margin:+.4f} above the seed spread {spread:.4f}, est. {minutes:g} min",
        )
    return {
        "seeds": seeds,
        "means": means,
        "best": best,
        "margin": margin,
        "spread": spread,
        "winner": winner,
        "reason": reason,
    }


def _score(rank: int, metric: str) -> float:
    if metric == "recall@5":
        return 1.0 if 1 <= rank <= 5 else 0.0
    if metric == "recall@1":
        return 1.0 if rank == 1 else 0.0
    return 1.0 / rank if rank else 0.0


def question_bootstrap(
    a: dict[int, dict[str, Any]],
    b: dict[int, dict[str, Any]],
    seeds: Sequence[int],
    metric: str,
    draws: int = 4000,
) -> tuple[float, float, float]:
    """Mean difference a - b of the seed-averaged per-question dense score, and its 95% interval
    from resampling the questions (paired: same questions, same seeds)."""
    ids = sorted(a[seeds[0]]["per_question"])

    def averaged(runs: dict[int, dict[str, Any]], qid: str) -> float:
        return statistics.mean(_score(runs[s]["per_question"][qid][0], metric) for s in seeds)

    diffs = [averaged(a, q) - averaged(b, q) for q in ids]
    rng = random.Random(0)
    n = len(diffs)
    boot = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(draws))
    return sum(diffs) / n, boot[int(0.025 * draws)], boot[int(0.975 * draws) - 1]


def table(results: dict[str, Any]) -> str:
    seeds, by = paired_seeds(results["rows"])
    lines = [
        f"{len(seeds)} paired seeds ({seeds[0]}-{seeds[-1]}), {results.get('elapsed')} s on the device",
        "| recipe | dense r@1 | dense r@5 (sd; min-max) | dense MRR "
        "| hybrid r@1 | hybrid r@5 | hybrid MRR | est. min |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in by.items():
        rs = [runs[s] for s in seeds]
        r5 = [dense(r, "recall@5") for r in rs]
        hyb = {m: statistics.mean(r["final"]["hybrid_default"][m] for r in rs) for m in METRICS}
        lines.append(
            f"| {name} | {statistics.mean(dense(r, 'recall@1') for r in rs):.3f} | "
            f"{statistics.mean(r5):.3f} ({statistics.stdev(r5):.3f}; {min(r5):.3f}-{max(r5):.3f}) | "
            f"{statistics.mean(dense(r, 'mrr') for r in rs):.3f} | {hyb['recall@1']:.3f} | "
            f"{hyb['recall@5']:.3f} | {hyb['mrr']:.3f} | {EST_MINUTES.get(name, float('nan')):g} |"
        )
    lines.append("")
    for name, runs in by.items():
        if name == "current":
            continue
        parts = []
        for m in METRICS:
            d = [dense(runs[s], m) - dense(by["current"][s], m) for s in seeds]
            half = 2 * statistics.stdev(d) / len(d) ** 0.5
            won = sum(x > 1e-9 for x in d)
            lost = sum(x < -1e-9 for x in d)
            _, low, high = question_bootstrap(runs, by["current"], seeds, m)
            parts.append(
                f"{m} {statistics.mean(d):+.4f} (seeds ±{half:.4f}, {won} won/{len(d) - won - lost} tied/"
                f"{lost} lost; questions [{low:+.4f}, {high:+.4f}])"
            )
        lines.append(f"{name} - current, dense: " + "; ".join(parts))
    verdict = decide(results["rows"])
    lines.append("")
    lines.append(f"decision: {verdict['winner']} ({verdict['reason']})")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", help="print the seed table and the decision for this results file")
    p.add_argument("--bundle")
    p.add_argument("--model")
    p.add_argument("--out")
    p.add_argument("--device", default="cuda")
    p.add_argument("--workers", type=int, default=12)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--budget", type=float, default=135.0, help="seconds: no task starts after this")
    p.add_argument("--grace", type=float, default=25.0)
    p.add_argument("--layers", type=int, default=0, help="> 0: keep the first N layers (smoke runs)")
    p.add_argument("--max-steps", type=int, default=0, help="> 0: at most N steps per epoch (smoke runs)")
    args = p.parse_args()
    if args.table:
        print(table(json.loads(Path(args.table).read_text(encoding="utf-8"))))
        return 0
    if not (args.bundle and args.model and args.out):
        p.error("--bundle, --model and --out are required for a run")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
