"""Celery worker throughput: triage cases per second against the number of worker processes.

Real Redis broker (a throwaway database number, flushed), real ``celery worker`` processes running the
real agent (playbook model) over a SQLite job database (WAL), on tmpfs when the machine has one
(``--disk`` keeps it on disk, where every commit is an fsync). One prefork node is started and grown
with ``pool_grow`` to each worker count; for each count, N cases are created as the API creates
them, published, and timed until every case has its proposal. Each count also reports the CPU
seconds per case of the worker processes, which is what scales on a machine with more cores.

    .venv/bin/python benchmarks/workers.py [--cases 500] [--workers 1,2,4] [--redis redis://127.0.0.1:6379/13]

On a machine with C cores, throughput grows with the worker count up to about C; on the 2-core
development machine (shared with other work) a warm worker process triages a case in 40-60 ms of CPU
and 500 cases take about 30-40 s at each count. SQLite has one writer at a time; PostgreSQL is the
store for a fleet on many cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.app.celery_fleet import REDIS_URL, Deployment, Fleet, redis_available, scratch_dir


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / ticks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500, help="cases per worker count")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts, ascending")
    parser.add_argument("--redis", default=REDIS_URL, help="throwaway Redis database (flushed)")
    parser.add_argument("--disk", action="store_true", help="keep the data directory on disk, not tmpfs")
    args = parser.parse_args()
    counts = sorted({int(c) for c in args.workers.split(",")})
    if not redis_available(args.redis):
        print(f"Redis not reachable at {args.redis}", file=sys.stderr)
        return 1
    root_dir: AbstractContextManager[Any] = (
        tempfile.TemporaryDirectory(prefix="repairdesk-bench-")
        if args.disk
        else scratch_dir("repairdesk-bench-")
    )
    with root_dir as root:
        deployment = Deployment(Path(root), broker=args.redis)
        fleet = Fleet(deployment)
        try:
            node = fleet.start(counts[0], pool="prefork")
            print(f"{'workers':>7}  {'cases':>6}  {'seconds':>8}  {'cases/s':>8}  {'cpu s/case':>10}")
            for count in counts:
                grow = count - len(_children(node.process.pid))
                if grow > 0:
                    fleet.grow(node, grow, timeout=300)
                pids = _children(node.process.pid)
                cpu_before = _cpu_seconds(pids)
                started = time.perf_counter()  # from the first publish to the last proposal
                case_ids = deployment.create_cases(args.cases, f"B{count}")
                deployment.wait_for(case_ids, timeout=120 + args.cases * 2)
                seconds = time.perf_counter() - started
                cpu = (_cpu_seconds(pids) - cpu_before) / args.cases
                proposals = deployment.proposals_per_case(case_ids)
                if set(proposals.values()) != {1}:
                    print(f"  {count} workers: some cases lack exactly one proposal", file=sys.stderr)
                    return 1
                rate = args.cases / seconds
                print(f"{count:>7}  {args.cases:>6}  {seconds:>8.1f}  {rate:>8.1f}  {cpu:>10.3f}")
        finally:
            fleet.stop(timeout=30)
            deployment.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
