"""Drift monitoring (issue 13, item 7): figures from seeded decision records, PSI on a shifted mix,
the gauges on /metrics, and a stored reference snapshot."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from app import drift_metrics
from app.db.session import Database
from app.services.drift import psi
from app.services.monitoring import (
    MonitorError,
    Snapshot,
    load_reference,
    snapshot,
    timeline,
    window_figures,
)
from app.settings import Settings
from tests.app.conftest import Api
from tests.app.monitoring_seed import CURRENT, NOW, SHIFTED, START, STEADY, Seed, add_all, spread


def _snapshot(db: Database, **overrides: object) -> Snapshot:
    options: dict[str, object] = {
        "since": None,
        "now": NOW,
        "window_days": 7,
        "reference_days": 14,
        "reference_file": None,
        "min_cases": 50,
    } | overrides
    with db.session() as session:
        return snapshot(session, **options)  # type: ignore[arg-type]


@pytest.fixture
def db(db_url: str) -> Database:
    return Database(db_url)


def _seed(db: Database, current_mix: dict[str, int], **current: object) -> None:
    with db.session() as session:
        add_all(session, spread(STEADY, START, 14, outcome="approved"))
        add_all(session, spread(current_mix, CURRENT, 6.5, **current))


def test_a_shifted_code_mix_raises_the_psi(db: Database) -> None:
    _seed(db, STEADY, outcome="approved")
    steady = _snapshot(db)
    assert steady.current.cases == steady.reference.cases == 100  # type: ignore[union-attr]
    assert steady.psi["exception_code"] is not None and steady.psi["exception_code"] < 0.01
    with db.session() as session:  # the next week: same volume, a different mix
        add_all(session, spread(SHIFTED, NOW, 6.5, outcome="approved"))
    shifted = _snapshot(db, now=NOW + timedelta(days=7))
    assert shifted.current.codes == SHIFTED
    assert shifted.psi["exception_code"] is not None and shifted.psi["exception_code"] > 0.25
    # the confidence did not move, so its PSI stays low: the two features are measured apart
    assert shifted.psi["confidence"] is not None and shifted.psi["confidence"] < 0.01


def test_lower_confidence_raises_the_confidence_psi_not_the_mix(db: Database) -> None:
    _seed(db, STEADY, confidence=0.62)
    figures = _snapshot(db)
    assert figures.psi["confidence"] is not None and figures.psi["confidence"] > 0.25
    assert figures.psi["exception_code"] is not None and figures.psi["exception_code"] < 0.01
    assert sum(figures.current.confidence) == 100 and figures.current.confidence_sum == pytest.approx(62.0)


def test_rates_by_code_stp_share_and_qa_disagreement(db: Database) -> None:
    day = CURRENT + timedelta(days=1)
    seeds = [
        *(Seed("AC01", day, outcome="approved") for _ in range(6)),
        *(Seed("AC01", day, outcome="edited") for _ in range(3)),
        Seed("AC01", day, outcome="rejected"),
        *(Seed("AM04", day, outcome="rejected") for _ in range(2)),
        Seed("AM04", day),  # undecided: in the mix, not in the rates
        # straight through: in the STP share, not in the rates; QA verdicts are `qa` decisions ...
        Seed("AC01", day, auto_applied_by="system:stp", qa="agree"),
        Seed("AC01", day, auto_applied_by="system:stp", qa="disagree"),
        Seed("AM04", day, auto_applied_by="system:stp"),
        # ... or, where only the proposal says so, a person's later decision
        Seed("AC01", day, straight_through=True, qa="approve"),
        Seed("AC01", day, straight_through=True, qa="reject"),
        Seed("AC01", day, straight_through=True, qa="edit"),
        Seed("AC01", day, straight_through=True),
        Seed("AC01", day, straight_through=False, outcome="approved"),
    ]
    with db.session() as session:
        add_all(session, seeds)
        figures = window_figures(session, CURRENT, NOW)
    assert figures.codes == {"AC01": 17, "AM04": 4}
    assert figures.outcomes == {"AC01": {"approved": 7, "edited": 3, "rejected": 1}, "AM04": {"rejected": 2}}
    assert figures.rates("AC01") == pytest.approx({"approved": 7 / 11, "edited": 3 / 11, "rejected": 1 / 11})
    assert figures.rates("AM04") == {"approved": 0.0, "edited": 0.0, "rejected": 1.0}
    assert figures.decided() == 13 and figures.rates()["approved"] == pytest.approx(7 / 13)
    assert figures.proposals == 21 and figures.straight_through == 7
    assert figures.stp_share == pytest.approx(7 / 21)
    assert (figures.qa_reviews, figures.qa_disagreements) == (5, 3)
    assert figures.qa_disagreement_rate == pytest.approx(3 / 5)


def test_decisions_count_in_the_window_they_were_made(db: Database) -> None:
    """A case from the reference period decided this week counts in this week's rates."""
    with db.session() as session:
        add_all(
            session, [Seed("AC01", START, outcome="rejected", decided_after=NOW - START - timedelta(days=1))]
        )
        current = window_figures(session, CURRENT, NOW)
        reference = window_figures(session, START, START + timedelta(days=14))
    assert current.cases == 0 and current.outcomes == {"AC01": {"rejected": 1}}
    assert reference.cases == 1 and reference.outcomes == {}


def test_too_few_cases_give_no_psi(db: Database) -> None:
    _seed(db, {"RR03": 20})
    figures = _snapshot(db)
    assert figures.current.cases == 20
    assert figures.psi == {"exception_code": None, "confidence": None}
    assert _snapshot(db, min_cases=20).psi["exception_code"] is not None


def test_a_fresh_database_has_no_reference_and_no_psi(db: Database) -> None:
    figures = _snapshot(db)
    assert figures.reference is None and figures.current.cases == 0
    assert figures.psi == {"exception_code": None, "confidence": None}
    assert figures.current.rates()["approved"] is None and figures.current.stp_share is None


def test_a_stored_reference_snapshot_replaces_the_first_days(db: Database, tmp_path: Path) -> None:
    _seed(db, SHIFTED)
    stored = tmp_path / "figures.json"
    with db.session() as session:  # a snapshot of the shifted week becomes the reference
        week = window_figures(session, CURRENT, NOW)
    stored.write_text(json.dumps({"current": week.to_dict()}), encoding="utf-8")
    assert load_reference(stored).codes == SHIFTED
    figures = _snapshot(db, reference_file=stored)
    assert figures.reference is not None and figures.reference.source == str(stored)
    assert figures.psi["exception_code"] == pytest.approx(0.0)
    assert _snapshot(db).psi["exception_code"] > 0.25  # type: ignore[operator]


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "cannot read"), ('{"codes": {}}', "not a monitoring window"), ("[1]", "JSON object")],
)
def test_a_bad_reference_snapshot_is_a_clear_error(tmp_path: Path, content: str, reason: str) -> None:
    stored = tmp_path / "reference.json"
    stored.write_text(content, encoding="utf-8")
    with pytest.raises(MonitorError, match=reason):
        load_reference(stored)


def test_since_after_now_is_refused(db: Database) -> None:
    with pytest.raises(MonitorError, match="is not before now"):
        _snapshot(db, since=NOW + timedelta(hours=1))


def test_psi_of_identical_and_disjoint_mixes() -> None:
    assert psi({"a": 3, "b": 1}, {"a": 30, "b": 10}) == pytest.approx(0.0)
    assert (psi({"a": 1}, {"b": 1}) or 0) > 10  # nothing in common: far beyond any threshold
    assert psi({}, {"a": 1}) is None


def _scraped() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_the_gauges_carry_the_snapshot(db: Database, db_url: str, tmp_path: Path) -> None:
    _seed(db, SHIFTED, outcome="rejected")
    settings = Settings(data_dir=tmp_path, database_url=db_url, today=NOW.date())  # now: NOW
    drift_metrics.refresh(db, settings, force=True)
    samples = _scraped()
    figures = drift_metrics.COLLECTOR.snapshot
    assert figures is not None
    assert samples[("repairdesk_psi", (("feature", "exception_code"),))] == figures.psi["exception_code"]
    assert samples[("repairdesk_window_cases", (("window", "reference"),))] == 100
    rejected = (("code", "RR03"), ("outcome", "rejected"), ("window", "current"))
    assert samples[("repairdesk_decision_rate", rejected)] == 1.0
    assert samples[("repairdesk_exception_code_share", (("code", "AM05"), ("window", "current")))] == 0.3
    assert ("repairdesk_exception_code_share", (("code", "AM05"), ("window", "reference"))) not in samples
    buckets = [v for (name, labels), v in samples.items() if name == "repairdesk_proposal_confidence_bucket"]
    assert max(buckets) == 100 and len(buckets) == 20  # 9 bounds and +Inf, two windows


def test_metrics_endpoint_reports_a_decided_case(api: Api) -> None:
    case_id = api.submit(case_id="EXC-MON-1")
    api.wait_status(case_id)
    assert api.decide(case_id, "approver", "approve").status_code == 200
    api.wait_status(case_id, "applied")
    api.app.state.services.settings.monitor_refresh_seconds = 0
    text = api.client.get("/metrics").text
    assert 'repairdesk_decided_cases{code="AC01",window="current"} 1.0' in text
    assert 'repairdesk_decision_rate{code="AC01",outcome="approved",window="current"} 1.0' in text
    assert 'repairdesk_stp_share{window="current"} 0.0' in text
    assert 'repairdesk_proposal_confidence_bucket{le="0.95",window="current"} 1.0' in text


def test_a_failing_refresh_keeps_the_last_figures(db: Database, db_url: str, tmp_path: Path) -> None:
    _seed(db, SHIFTED)
    good = Settings(data_dir=tmp_path, database_url=db_url, today=NOW.date())
    drift_metrics.refresh(db, good, force=True)
    before = drift_metrics.COLLECTOR.snapshot
    errors = REGISTRY.get_sample_value("repairdesk_monitor_refresh_errors_total") or 0.0
    broken = good.model_copy(update={"monitor_reference": tmp_path / "missing.json"})
    drift_metrics.refresh(db, broken, force=True)
    assert REGISTRY.get_sample_value("repairdesk_monitor_refresh_errors_total") == errors + 1
    assert drift_metrics.COLLECTOR.snapshot is before
    assert _scraped()[("repairdesk_window_cases", (("window", "current"),))] == 100
    # within the refresh interval a scrape serves the last figures without touching the database
    drift_metrics.COLLECTOR.refreshed_at = time.monotonic()
    drift_metrics.refresh(db, broken.model_copy(update={"monitor_refresh_seconds": 3600}))
    assert REGISTRY.get_sample_value("repairdesk_monitor_refresh_errors_total") == errors + 1


def test_the_timeline_cuts_the_window_into_days_with_their_psi(db: Database) -> None:
    _seed(db, {code: 4 * n for code, n in SHIFTED.items()})  # 400 cases over 6.5 days
    figures = _snapshot(db)
    with db.session() as session:
        days = timeline(session, figures)
        long = timeline(session, _snapshot(db, since=START), max_points=10)
    assert [d.figures.start for d in days] == [CURRENT + timedelta(days=i) for i in range(7)]
    assert sum(d.figures.cases for d in days) == 400
    assert all(d.psi["exception_code"] is not None and d.psi["exception_code"] > 0.25 for d in days[:6])
    # 80.5 days in at most 10 steps: 9-day steps, the last one shorter
    assert len(long) == 9 and long[0].figures.end - long[0].figures.start == timedelta(days=9)
    assert long[-1].figures.end == NOW
    assert long[0].psi["exception_code"] == pytest.approx(0.0, abs=0.05)  # the reference period itself


def test_made_up_codes_are_summed_under_other_in_the_labels(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    day = CURRENT + timedelta(days=1)
    flood = [Seed(f"X{i:03d}", day, outcome="rejected") for i in range(drift_metrics.MAX_CODE_LABELS + 20)]
    with db.session() as session:
        add_all(session, [*(Seed("AC01", day, outcome="approved") for _ in range(5)), *flood])
    drift_metrics.refresh(db, Settings(data_dir=tmp_path, database_url=db_url, today=NOW.date()), force=True)
    samples = _scraped()
    shares = {dict(labels)["code"] for name, labels in samples if name == "repairdesk_exception_code_share"}
    assert len(shares) == drift_metrics.MAX_CODE_LABELS + 1 and {"AC01", "OTHER"} <= shares
    other = (("code", "OTHER"), ("window", "current"))
    assert samples[("repairdesk_decided_cases", other)] == 21  # 61 codes: 40 kept (AC01 first), 21 summed
    assert samples[("repairdesk_decision_rate", (*other[:1], ("outcome", "rejected"), other[1]))] == 1.0
    assert samples[("repairdesk_decided_cases", (("code", "ALL"), ("window", "current")))] == 65
