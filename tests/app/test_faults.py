"""Fault injection on the decision path (issue 19): kill -9 at every named crash point and at random
moments, restart, and check that every case is undecided-and-decidable or decided exactly once, with
decisions, audit, checkpoints and case state in agreement (:mod:`tests.app.fault_harness`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.models import Case, Job
from tests.app.celery_fleet import scratch_dir
from tests.app.fault_harness import Rig
from tools.faults import CRASH_POINTS


@pytest.fixture
def rig() -> Iterator[Rig]:
    with scratch_dir("repairdesk-faults-") as root:
        yield Rig(Path(root))


def test_a_hundred_kills_along_the_decision_path_break_no_invariant(rig: Rig) -> None:
    outcome = rig.campaign(100, random_share=0.4)
    assert outcome.runs == 100
    assert outcome.violations == []
    for point in CRASH_POINTS:  # every named point was reached and killed the process there
        assert outcome.exits.get(f"{point}:137", 0) >= 1, (point, outcome.exits)
    random_runs = sum(count for label, count in outcome.exits.items() if label.startswith("random:"))
    assert random_runs == 40


def test_the_checks_see_a_crash_that_nobody_recovered(rig: Rig) -> None:
    # the invariants can fail: without the start-up recovery pass the decision stays half-applied
    case_id = rig.seed(1, prefix="U")[0]
    assert rig.kill_run(case_id, "reject", crash_at="continuation.after_resume", kill_after=None) == 137
    problems = rig.check_case(case_id, "reject")
    assert any("still pending" in p for p in problems), problems
    rig.restart()
    assert rig.check_case(case_id, "reject") == []
    assert rig.check_audit() == []


def test_crash_points_are_inert_unless_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.faults import crash_point

    monkeypatch.setenv("REPAIRDESK_CRASH_AT", "decision.after_commit")
    monkeypatch.delenv("REPAIRDESK_FAULTS_ENABLED", raising=False)
    crash_point("decision.after_commit")  # still alive: the hook is test-only and off by default
    monkeypatch.setenv("REPAIRDESK_FAULTS_ENABLED", "false")
    crash_point("decision.after_commit")


@pytest.mark.slow
def test_three_hundred_kills_with_random_timings(rig: Rig) -> None:
    outcome = rig.campaign(300, random_share=0.7)
    assert outcome.violations == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "point", ["continuation.before_resume", "graph.after_apply", "continuation.before_commit"]
)
def test_a_celery_worker_killed_mid_continuation_leaves_the_case_decided_once(point: str) -> None:
    """A decision job on a real Celery worker (Redis) that dies inside the continuation: the message
    comes back (late acknowledgement), a second worker takes the job over from the dead holder and
    finishes it from the checkpoint; the case is decided once and everything agrees."""
    from app.jobs.celery_app import TRIAGE_TASK
    from app.jobs.celery_config import TRIAGE_QUEUE
    from tests.app.celery_fleet import REDIS_URL, Deployment, Fleet, redis_available
    from tests.conftest import require

    require(redis_available(), f"Redis not reachable at {REDIS_URL}")
    with scratch_dir("repairdesk-celery-faults-") as root:
        deployment = Deployment(Path(root))
        fleet = Fleet(deployment)
        try:
            rig = Rig(Path(root), data_dir=deployment.data_dir)
            case_id = rig.seed(1, prefix="CEL")[0]
            with rig.db.session() as session:
                from app.api.schemas import DecisionIn
                from app.services.decisions import record_decision

                recorded = record_decision(
                    session,
                    rig.store,
                    rig.runner,
                    case_id,
                    DecisionIn(decision="reject"),
                    user="alice",
                    role="approver",
                )
            deployment.extra_env.update({"REPAIRDESK_FAULTS_ENABLED": "1", "REPAIRDESK_CRASH_AT": point})
            doomed = fleet.start(1)
            deployment.celery.send_task(TRIAGE_TASK, args=(case_id, recorded.job_id), queue=TRIAGE_QUEUE)
            assert doomed.process.wait(120) == 137, doomed.log_text()[-2000:]
            deployment.extra_env.pop("REPAIRDESK_CRASH_AT")
            fleet.start(1)  # the message comes back after the visibility timeout (6 s here)
            deadline = time.monotonic() + 120
            while rig.check_case(case_id, "reject") and time.monotonic() < deadline:
                time.sleep(0.5)
            assert rig.check_case(case_id, "reject") == []
            assert rig.check_audit() == []
            with rig.db.session() as session:
                job = session.get(Job, recorded.job_id)
            assert job is not None and (job.status, job.attempts) == ("done", 2)  # taken over once
        finally:
            fleet.stop(timeout=30)
            deployment.close()


def test_a_checkpoint_decided_behind_the_databases_back_is_reconciled_at_start_up(rig: Rig) -> None:
    # what the old design left after a crash: the graph took an approve, the case row never heard of it
    case_id = rig.seed(1, prefix="L")[0]
    rig.runner.resume(case_id, {"decision": "approve", "user": "alice"})
    rig.restart()
    with rig.db.session() as session:
        case = session.scalars(select(Case).where(Case.id == case_id)).one()
    assert case.status == "failed"  # not left in review, where every decision would be refused
    assert case.error is not None and "never recorded" in case.error
    assert rig.check_audit() == []
