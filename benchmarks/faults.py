"""Fault injection on the decision path: runs, invariant violations and recovery time after restart.

Each run seeds one case at the real graph's human-review interrupt, forks a child that decides it
with the production code and kills it (``os._exit(137)`` at a named crash point, in turn, or
``SIGKILL`` after a random delay), then "restarts" (a fresh runner and the start-up recovery pass)
and checks the invariants of ``tests/app/fault_harness.py``: every case undecided-and-decidable or
decided exactly once; decisions, audit, checkpoints and case state agree; the keyed audit chain and
the state verification pass; no reject ends applied. The floor for violations is 0.

    .venv/bin/python benchmarks/faults.py [--runs 300] [--random-share 0.5] [--max-kill-ms MS] [--disk]

Recovery time is the wall time of the restart (building the runner and the recovery pass, which
finishes the decision the crash interrupted), as median and p95 over the runs; the baseline printed
beside it is the same restart with nothing to recover, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.app.celery_fleet import scratch_dir
from tests.app.fault_harness import Rig


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument(
        "--random-share", type=float, default=0.5, help="share of runs killed at random times"
    )
    parser.add_argument(
        "--max-kill-ms",
        type=float,
        default=None,
        help="random kills fall in [0, this); default 1.2 x a decision",
    )
    parser.add_argument("--disk", action="store_true", help="keep the data on disk, not tmpfs")
    args = parser.parse_args()
    context = (
        tempfile.TemporaryDirectory(prefix="repairdesk-faults-")
        if args.disk
        else scratch_dir("repairdesk-faults-")
    )
    with context as root:
        rig = Rig(Path(root))
        baseline = [rig.restart() for _ in range(10)]  # nothing to recover
        started = time.perf_counter()
        outcome = rig.campaign(args.runs, random_share=args.random_share, max_kill_ms=args.max_kill_ms)
        elapsed = time.perf_counter() - started
    killed = sum(n for label, n in outcome.exits.items() if label.endswith(":137"))
    print(f"runs                  {outcome.runs}")
    print(f"processes killed      {killed} (the rest finished before their random kill)")
    print(f"random kill window    0-{outcome.max_kill_ms:.0f} ms")
    print(f"invariant violations  {len(outcome.violations)}")
    for violation in outcome.violations[:20]:
        print(f"  - {violation}")
    median, p95 = statistics.median(outcome.recovery_seconds), _quantile(outcome.recovery_seconds, 0.95)
    base = statistics.median(baseline)
    print(f"recovery after restart median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    print(
        f"restart with nothing to recover (baseline) median {base * 1000:.1f} ms; ratio {median / base:.2f}"
    )
    print(f"wall time             {elapsed:.1f} s ({elapsed / max(1, outcome.runs) * 1000:.0f} ms per run)")
    print("exits by point:        " + ", ".join(f"{k}={v}" for k, v in sorted(outcome.exits.items())))
    return 1 if outcome.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
