"""CLI wall time: ``repairdesk search "wrong IBAN"`` and ``repairdesk triage <case>``, warm machine.

Usage: .venv/bin/python benchmarks/cli.py [--runs 5] [--baseline-root DIR] [--data-dir DIR]

Each command runs ``--runs`` times as a fresh process (what a user types); the median wall time is
printed. One untimed run first builds the index and warms the page cache, so the figures are those
of a warm machine (issue 16 asks for under 3 s). ``--baseline-root`` names another checkout (e.g.
``git archive`` of the previous commit); its commands run in the same loop, interleaved, and the
ratio new/baseline is printed. Both use the same data directory (one index). With
``REPAIRDESK_API_URL`` and ``REPAIRDESK_API_TOKEN`` in the environment, ``triage`` asks that running
server (``POST /v1/triage``) and the figure is the CLI's side of that round trip.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEARCH = ["search", "wrong IBAN"]


def case_file(folder: Path) -> Path:
    """A repair case from the agent evaluation set (the same one each run)."""
    rows = (ROOT / "evals" / "datasets" / "agent_cases.jsonl").read_text().splitlines()
    case = next(json.loads(r)["case"] for r in rows if json.loads(r)["expected"]["action"] == "repair")
    path = folder / "case.json"
    path.write_text(json.dumps(case))
    return path


def run(root: Path, argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child): CPU time barely moves on a busy machine, wall does."""
    command = [sys.executable, "-c", "from app.cli.main import main; main()", *argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=env | {"PYTHONPATH": str(root)}, capture_output=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{root}: {' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-root", type=Path)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="repairdesk-cli-bench-"))
    data_dir = args.data_dir or work / "var"
    env = os.environ | {
        "REPAIRDESK_DATA_DIR": str(data_dir.resolve()),
        "REPAIRDESK_SHARED_DATA": str((ROOT.parent / "shared" / "data").resolve()),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    commands = {"search": SEARCH, "triage": ["triage", str(case_file(work)), "--json"]}
    roots = {"new": ROOT} | ({"baseline": args.baseline_root.resolve()} if args.baseline_root else {})
    for root in roots.values():  # untimed: builds the index once, warms the page cache
        for argv in commands.values():
            run(root, argv, env)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        for label, root in roots.items():
            for name, argv in commands.items():
                times.setdefault((label, name), []).append(run(root, argv, env))
    for name in commands:
        wall, cpu = (statistics.median(t[i] for t in times[("new", name)]) for i in (0, 1))
        line = f"{name:<7} median wall {wall:6.2f} s  cpu {cpu:6.2f} s  over {args.runs} runs"
        if args.baseline_root:
            base_wall, base_cpu = (statistics.median(t[i] for t in times[("baseline", name)]) for i in (0, 1))
            line += (
                f"   baseline wall {base_wall:6.2f} s  cpu {base_cpu:6.2f} s"
                f"   ratio wall {wall / base_wall:.2f}  cpu {cpu / base_cpu:.2f}"
            )
        print(line)


if __name__ == "__main__":
    main()
