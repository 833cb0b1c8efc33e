"""Parser throughput on one core: MT103, MT940 (vs the ``mt-940`` package), pacs.008.

Run: ``.venv/bin/python benchmarks/parse.py [--repeats N] [--seconds S]``. Each figure is the median
of N repeats; a repeat parses the corpus over and over for about S seconds of CPU time, pinned to
one core. Rates are per second of the process's CPU time (the headline: a loaded, shared machine
inflates wall time with other tenants' work) and, beside them, per wall-clock second; the CPU
microseconds per item are the inverse of the first. Messages per second counts messages (statements
for MT940), not files. The MT940 comparison parses the same wolph ``.sta`` files with both parsers
in the same rounds, taking turns; the ratio is ours over ``mt940``'s. The calibration line and the
load average say how loaded the machine was: compare figures only between runs on the same machine
under similar load (for decisive A/B comparisons count instructions, e.g. with callgrind).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import time
import timeit
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("REPAIRDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))

from tools.errors import ParseError  # noqa: E402
from tools.messages.swift import parse_fin  # noqa: E402


class Rate(NamedTuple):
    """Median items per second of one work over the repeats, by CPU time and by wall-clock time."""

    cpu: float
    wall: float

    @property
    def cpu_us(self) -> float:
        """CPU microseconds per item."""
        return 1e6 / self.cpu


def _rates(works: list[Callable[[], int]], seconds: float, repeats: int) -> list[Rate]:
    """Median items/s of each ``work`` (returning the items it handled) over ``repeats`` rounds.

    The works take turns within each round, so a busy machine slows them alike and their ratio holds.
    The headline is the process's CPU time: on a shared machine wall time mostly measures the other
    tenants (the wall-clock rate is reported beside it so the difference shows).
    """
    for work in works:
        work()  # warm caches (registries, regex compilation) outside the timing
    cpu: list[list[float]] = [[] for _ in works]
    wall: list[list[float]] = [[] for _ in works]
    for _ in range(repeats):
        for i, work in enumerate(works):
            items, start, start_wall = 0, time.process_time(), time.perf_counter()
            while True:
                items += work()
                elapsed = time.process_time() - start
                if elapsed >= seconds:
                    break
            cpu[i].append(items / elapsed)
            wall[i].append(items / (time.perf_counter() - start_wall))
    return [Rate(statistics.median(c), statistics.median(w)) for c, w in zip(cpu, wall, strict=True)]


def _rate(work: Callable[[], int], seconds: float, repeats: int) -> Rate:
    return _rates([work], seconds, repeats)[0]


def _calibration() -> float:
    """Microseconds for ``sum(range(1000))``: about 8-10 on an idle modern core."""
    timer = time.process_time
    return min(timeit.repeat("sum(range(1000))", number=1000, repeat=5, timer=timer)) * 1000


def _read(paths: list[Path]) -> list[str]:
    return [p.read_bytes().decode("utf-8", errors="replace") for p in paths]


def _parse_all(texts: list[str]) -> int:
    count = 0
    for text in texts:
        with contextlib.suppress(ParseError):
            count += len(parse_fin(text, "bench"))
    return count


def bench_mt103(seconds: float, repeats: int) -> tuple[Rate, int]:
    texts = _read(sorted((SHARED / "swift_mt" / "prowide").glob("prowide_103_*.fin")))
    texts = [t for t in texts if all(r.doc_type == "swift.mt103" for r in parse_fin(t, "x"))]
    return _rate(lambda: _parse_all(texts), seconds, repeats), len(texts)


def bench_mt940(seconds: float, repeats: int) -> tuple[Rate, Rate, int]:
    """Ours and mt940's statements/s on the wolph files both parse."""
    import mt940

    logging.getLogger("mt940").setLevel(logging.CRITICAL)  # it logs every line it cannot match
    texts = []
    wolph = SHARED / "mt940" / "wolph"
    for path in sorted([*wolph.rglob("*.sta"), *wolph.rglob("*.txt")]):
        text = path.read_bytes().decode("utf-8", errors="replace")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mt940.parse(text)
            parsed = parse_fin(text, path.name)
        except Exception:  # a file either parser rejects is left out of the comparison
            continue
        if any(r.statement is not None for r in parsed):
            texts.append(text)
    statements = sum(sum(r.statement is not None for r in parse_fin(t, "x")) for t in texts)

    def ours() -> int:
        for text in texts:
            parse_fin(text, "bench")
        return statements

    def theirs() -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for text in texts:
                mt940.parse(text)
        return statements

    rate_ours, rate_theirs = _rates([ours, theirs], seconds, repeats)
    return rate_ours, rate_theirs, statements


def bench_pacs008(seconds: float, repeats: int) -> tuple[Rate, int] | None:
    try:
        from tools.messages.iso20022 import parse_xml
    except ImportError:
        return None
    paths = sorted((SHARED / "iso20022" / "fedwire_moov").glob("*pacs.008*.xml"))
    blobs = [p.read_bytes() for p in paths]
    if not blobs:
        return None

    def work() -> int:
        for blob in blobs:
            parse_xml(blob, "bench")
        return len(blobs)

    return _rate(work, seconds, repeats), len(blobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    print(f"median of {args.repeats} repeats, ~{args.seconds:.1f} CPU-s each, one core")
    print(f"machine: sum(range(1000)) takes {_calibration():.1f} us (about 8-10 us on an idle modern core)")
    if hasattr(os, "getloadavg"):
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'':8} {'per CPU-s':>12} {'per wall-s':>12} {'CPU us each':>12}")

    def line(label: str, rate: Rate, what: str) -> None:
        print(f"{label:8} {rate.cpu:>12,.0f} {rate.wall:>12,.0f} {rate.cpu_us:>12,.1f}   {what}")

    rate, n = bench_mt103(args.seconds, args.repeats)
    line("MT103", rate, f"messages ({n} prowide MT103 messages; floor 5,000/s)")
    ours, theirs, n = bench_mt940(args.seconds, args.repeats)
    line("MT940", ours, f"statements ({n} wolph statements)")
    line("mt-940", theirs, "statements (same statements, mt940.parse, same rounds)")
    print(f"ratio    {ours.cpu / theirs.cpu:>11.2f}x {ours.wall / theirs.wall:>11.2f}x  (ours / mt-940)")
    pacs = bench_pacs008(args.seconds, args.repeats)
    if pacs is None:
        print("pacs.008        n/a (tools.messages.iso20022.parse_xml not importable)")
    else:
        line("pacs.008", pacs[0], f"messages ({pacs[1]} fedwire pacs.008 files)")


if __name__ == "__main__":
    main()
