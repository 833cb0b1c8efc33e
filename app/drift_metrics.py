"""Drift and model-monitoring gauges on ``/metrics``, computed from the database (not counted in-process).

The figures come from :mod:`app.services.monitoring` (the decision record's tables), so every server
process and every restart reports the same numbers, and cases decided by Celery workers count too.
``/metrics`` calls :func:`refresh`, which recomputes them at most every
``REPAIRDESK_MONITOR_REFRESH_SECONDS`` (a scrape in between serves the last figures; a refresh that
fails keeps them and counts ``repairdesk_monitor_refresh_errors_total``). Every series has a
``window`` label, ``current`` or ``reference``, so alert rules compare the two
(``infra/prometheus/alerts.yml``); the confidence distribution is a gauge histogram of the window
(read it with ``histogram_quantile`` directly, not through ``rate``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.services.drift import CONFIDENCE_BOUNDS
from app.services.monitoring import ALL, Snapshot, WindowFigures, settings_snapshot

if TYPE_CHECKING:
    from app.db.session import Database
    from app.settings import Settings

log = logging.getLogger("repairdesk.monitoring")

REFRESH_ERRORS = PromCounter(
    "repairdesk_monitor_refresh_errors_total", "Monitoring refreshes that failed (the last figures stay)."
)


# Exception codes are client input (any 2-40 alphanumerics): only the busiest become label values, the
# rest are summed under OTHER, so a flood of made-up codes cannot flood Prometheus with series.
MAX_CODE_LABELS = 40
OTHER = "OTHER"


def _grouped(figures: WindowFigures, keep: set[str]) -> WindowFigures:
    """``figures`` with every code outside ``keep`` summed under :data:`OTHER`."""
    codes: dict[str, int] = {}
    outcomes: dict[str, dict[str, int]] = {}
    for code, count in figures.codes.items():
        label = code if code in keep else OTHER
        codes[label] = codes.get(label, 0) + count
    for code, counts in figures.outcomes.items():
        merged = outcomes.setdefault(code if code in keep else OTHER, {})
        for outcome, count in counts.items():
            merged[outcome] = merged.get(outcome, 0) + count
    return replace(figures, codes=codes, outcomes=outcomes)


def _families(snapshot: Snapshot) -> Iterator[Metric]:
    windows = [("current", snapshot.current)]
    if snapshot.reference is not None:
        windows.append(("reference", snapshot.reference))
    volume: Counter[str] = Counter()
    for _, figures in windows:
        volume.update(figures.codes)
        volume.update({code: sum(counts.values()) for code, counts in figures.outcomes.items()})
    keep = {code for code, _ in volume.most_common(MAX_CODE_LABELS)}
    windows = [(name, _grouped(figures, keep)) for name, figures in windows]
    cases = GaugeMetricFamily("repairdesk_window_cases", "Cases created in the window.", labels=["window"])
    share = GaugeMetricFamily(
        "repairdesk_exception_code_share",
        "Share of the window's cases per exception code.",
        labels=["window", "code"],
    )
    decided = GaugeMetricFamily(
        "repairdesk_decided_cases",
        "Cases finally decided by people in the window.",
        labels=["window", "code"],
    )
    rate = GaugeMetricFamily(
        "repairdesk_decision_rate",
        "Share of decided cases approved unchanged, approved after an edit, or rejected.",
        labels=["window", "code", "outcome"],
    )
    stp = GaugeMetricFamily(
        "repairdesk_stp_share", "Share of the window's proposals applied straight through.", labels=["window"]
    )
    qa_reviews = GaugeMetricFamily(
        "repairdesk_qa_reviews", "Straight-through cases a person reviewed in the window.", labels=["window"]
    )
    qa = GaugeMetricFamily(
        "repairdesk_qa_disagreement_rate",
        "Share of QA reviews of straight-through cases that did not approve them unchanged.",
        labels=["window"],
    )
    confidence = GaugeHistogramMetricFamily(
        "repairdesk_proposal_confidence", "Confidence of the window's agent proposals.", labels=["window"]
    )
    for name, figures in windows:
        cases.add_metric([name], figures.cases)
        for code, code_share in figures.code_shares().items():
            share.add_metric([name, code], code_share)
        for code in [ALL, *figures.outcomes]:
            decided.add_metric([name, code], figures.decided(code))
            for outcome, value in figures.rates(code).items():
                _optional(rate, [name, code, outcome], value)
        _optional(stp, [name], figures.stp_share)
        qa_reviews.add_metric([name], figures.qa_reviews)
        _optional(qa, [name], figures.qa_disagreement_rate)
        confidence.add_metric([name], _buckets(figures), gsum_value=figures.confidence_sum)
    psi = GaugeMetricFamily(
        "repairdesk_psi",
        "Population stability index, current window against the reference.",
        labels=["feature"],
    )
    for feature, index in snapshot.psi.items():
        _optional(psi, [feature], index)  # absent, not zero, while either window is too small
    refreshed = GaugeMetricFamily(
        "repairdesk_monitor_refreshed_timestamp_seconds", "When the monitoring figures were computed."
    )
    refreshed.add_metric([], snapshot.generated_at.timestamp())
    yield from (cases, share, decided, rate, stp, qa_reviews, qa, confidence, psi, refreshed)


def _optional(family: GaugeMetricFamily, labels: list[str], value: float | None) -> None:
    if value is not None:
        family.add_metric(labels, value)


def _buckets(figures: WindowFigures) -> list[tuple[str, float]]:
    running, buckets = 0, []
    for bound, count in zip(CONFIDENCE_BOUNDS, figures.confidence, strict=True):
        running += count
        buckets.append((repr(bound), float(running)))
    buckets.append(("+Inf", float(running)))
    return buckets


class MonitorCollector(Collector):
    """Serves the metrics of the last computed :class:`Snapshot` (nothing before the first refresh)."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.families: list[Metric] = []  # built at refresh, so that a scrape never computes or fails
        self.refreshed_at = float("-inf")  # time.monotonic() of the last attempt
        self.url: str | None = None  # the database it was computed from (tests build many apps)
        self._lock = threading.Lock()

    def describe(self) -> list[Metric]:
        return []  # registering must not compute anything

    def collect(self) -> Iterator[Metric]:
        yield from self.families

    def refresh(self, db: Database, settings: Settings, *, force: bool = False) -> None:
        """Recompute unless done within ``monitor_refresh_seconds`` or another thread is at it."""
        fresh = time.monotonic() - self.refreshed_at < settings.monitor_refresh_seconds
        if fresh and not force and self.url == db.url:
            return
        if not self._lock.acquire(blocking=force):
            return
        try:
            self.refreshed_at = time.monotonic()
            if self.url != db.url:
                self.snapshot, self.families, self.url = None, [], db.url
            with db.session() as session:
                snapshot = settings_snapshot(session, settings)
            self.snapshot, self.families = snapshot, list(_families(snapshot))
        except Exception:  # a scrape keeps its other metrics, and these keep their last values
            REFRESH_ERRORS.inc()
            log.exception("monitoring refresh failed")
        finally:
            self._lock.release()


COLLECTOR = MonitorCollector()
REGISTRY.register(COLLECTOR)


def refresh(db: Database, settings: Settings, *, force: bool = False) -> None:
    COLLECTOR.refresh(db, settings, force=force)
