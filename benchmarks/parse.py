"""Parser throughput on one core: MT103, MT940 (vs the ``mt-940`` package), pacs.008.

Run: ``.venv/bin/python benchmarks/parse.py [--repeats N] [--seconds S]``. Each figure is the median
of N repeats; a repeat parses the corpus over and over for about S seconds of CPU time, pinned to
one core. Messages per second
counts messages (statements for MT940), not files. The MT940 comparison parses the same wolph
``.sta`` files with both parsers in the same run; the ratio is ours over ``mt940``'s.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("REPAIRDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))

from tools.errors import ParseError  # noqa: E402
from tools.messages.swift import parse_fin  # noqa: E402


def _rates(works: list[Callable[[], int]], seconds: float, repeats: int) -> list[float]:
    """Median items/s of each ``work`` (returning the items it handled) over ``repeats`` rounds.

    The works take turns within each round, so a busy machine slows them alike and their ratio holds.
    Time is the process's CPU time: on a shared machine wall time mostly measures the other tenants.
    """
    for work in works:
        work()  # warm caches (registries, regex compilation) outside the timing
    rates: list[list[float]] = [[] for _ in works]
    for _ in range(repeats):
        for i, work in enumerate(works):
            items, start = 0, time.process_time()
            while True:
                items += work()
                elapsed = time.process_time() - start
                if elapsed >= seconds:
                    break
            rates[i].append(items / elapsed)
    return [statistics.median(r) for r in rates]


def _rate(work: Callable[[], int], seconds: float, repeats: int) -> float:
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


def bench_mt103(seconds: float, repeats: int) -> tuple[float, int]:
    texts = _read(sorted((SHARED / "swift_mt" / "prowide").glob("prowide_103_*.fin")))
    texts = [t for t in texts if all(r.doc_type == "swift.mt103" for r in parse_fin(t, "x"))]
    return _rate(lambda: _parse_all(texts), seconds, repeats), len(texts)


def bench_mt940(seconds: float, repeats: int) -> tuple[float, float, int]:
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


def bench_pacs008(seconds: float, repeats: int) -> tuple[float, int] | None:
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
    rate, n = bench_mt103(args.seconds, args.repeats)
    print(f"MT103    {rate:>10,.0f} messages/s   ({n} prowide MT103 messages; floor 5,000)")
    ours, theirs, n = bench_mt940(args.seconds, args.repeats)
    print(f"MT940    {ours:>10,.0f} statements/s ({n} wolph statements)")
    print(f"mt-940   {theirs:>10,.0f} statements/s (same statements, mt940.parse)")
    print(f"ratio    {ours / theirs:>10.2f}x  (ours / mt-940)")
    pacs = bench_pacs008(args.seconds, args.repeats)
    if pacs is None:
        print("pacs.008        n/a (tools.messages.iso20022.parse_xml not importable)")
    else:
        print(f"pacs.008 {pacs[0]:>10,.0f} messages/s   ({pacs[1]} fedwire pacs.008 files)")


if __name__ == "__main__":
    main()
