"""How long the drift figures take on a realistic database: 10,000 decided cases by default.

Seeds a fresh SQLite file (or the empty PostgreSQL database ``--database-url`` names) with cases over
76 days whose code mix and confidence shift after day 60, with approvals, edits, rejections, a
straight-through share and QA verdicts (:mod:`tests.app.monitoring_seed`), then times the snapshot
``/metrics`` computes (the last 7 days against the first 14) and one window over every case, and
prints the PSI values. Floor: the ``/metrics`` snapshot under 1 s (exit 1 otherwise).

    python benchmarks/monitoring.py [--cases 10000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.db.session import Database  # noqa: E402
from app.services.monitoring import Snapshot, snapshot  # noqa: E402
from tests.app.monitoring_seed import Seed, add_all  # noqa: E402

FLOOR_S = 1.0
START = datetime(2026, 9, 1, tzinfo=UTC)
CODES = ["AC01", "AM04", "RR03", "BE04", "AM05", "AC04", "RC01"]
BEFORE, AFTER = [30, 20, 15, 10, 5, 10, 10], [15, 15, 30, 10, 15, 5, 10]


def seeds(count: int) -> list[Seed]:
    rng = random.Random(13)
    step = timedelta(days=76) / count
    found = []
    for i in range(count):
        at = START + step * i
        late = at > START + timedelta(days=60)
        straight = late and rng.random() < 0.2
        found.append(
            Seed(
                rng.choices(CODES, AFTER if late else BEFORE)[0],
                at,
                confidence=min(1.0, max(0.0, rng.gauss(0.8 if late else 0.9, 0.06))),
                outcome=rng.choices(["approved", "edited", "rejected", None], [70, 10, 10, 10])[0],
                auto_applied_by="system:stp" if straight else None,
                qa=rng.choice([None, None, "agree", "disagree"]) if straight else None,
            )
        )
    return found


def timed(database: Database, since: datetime | None, now: datetime) -> tuple[float, Snapshot]:
    """Median of five snapshots: the current window from ``since`` (default 7 days) to ``now``."""
    runs = []
    for _ in range(5):
        began = time.perf_counter()
        with database.session() as session:
            result = snapshot(
                session,
                since=since,
                now=now,
                window_days=7,
                reference_days=14,
                reference_file=None,
                min_cases=50,
            )
        runs.append(time.perf_counter() - began)
    return statistics.median(runs), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: a temporary SQLite file)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-monitoring-") as folder:
        database = Database(args.database_url or f"sqlite:///{Path(folder) / 'repairdesk.db'}")
        database.migrate()
        began = time.perf_counter()
        with database.session() as session:
            add_all(session, seeds(args.cases))
        print(f"seeded {args.cases} cases in {time.perf_counter() - began:.1f} s")
        now = START + timedelta(days=76)
        metrics_s, figures = timed(database, None, now)
        all_s, everything = timed(database, START, now)
        database.engine.dispose()
    print(f"/metrics snapshot (7 days against the first 14): {1000 * metrics_s:.0f} ms (median of 5)")
    print(f"one window over all {args.cases} cases:            {1000 * all_s:.0f} ms")
    print(f"PSI over the last 7 days: {figures.psi}")
    window = everything.current
    print(
        f"all cases: {window.decided()} decided, STP share {window.stp_share or 0:.3f}, "
        f"QA disagreement {window.qa_disagreement_rate or 0:.3f}"
    )
    if metrics_s > FLOOR_S:
        print(f"FLOOR MISSED: the /metrics snapshot took {metrics_s:.2f} s (floor {FLOOR_S} s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
