"""Poison jobs end: attempts are counted when a job is claimed, so a job that kills its worker every
time is dead-lettered with its reason after the limit, and its case shows ``failed`` with that reason,
on the in-process pool and on the Celery task."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.models import Case, Job
from app.jobs import celery_app
from app.jobs.pool import LIVE_INSTANCES, WorkerPool
from app.jobs.queue import HOST, claim, requeue_orphans
from app.jobs.triage import TriageRunners
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import Api, StubTriage, add_tokens, celery_context


class KillsItsWorker(StubTriage):
    """Triage that takes the whole process down, as a runaway document did."""

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        os._exit(137)


def _job(db: Any, case_id: str) -> Job:
    with db.session() as session:
        return session.scalars(select(Job).where(Job.case_id == case_id)).one()


def _case(db: Any, case_id: str) -> Case:
    with db.session() as session:
        return session.scalars(select(Case).where(Case.id == case_id)).one()


def test_a_job_that_kills_its_worker_is_dead_lettered_in_process(
    tmp_path: Path, sqlite_template: Path
) -> None:
    # SQLite only: forked worker processes share the file (the claim SQL is the same on PostgreSQL,
    # where the Celery test below runs too)
    shutil.copyfile(sqlite_template, tmp_path / "repairdesk.db")
    # Its own Settings, not make_settings: forked worker processes share this one SQLite file.
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'repairdesk.db'}",
        workers=0,
        job_max_attempts=3,
        migrate_on_startup=False,
        freeze_heap=False,
        log_json=True,
    )
    app = create_app(settings, configure_logs=False, runners=TriageRunners.fixed(StubTriage()))
    with TestClient(app) as client:
        case_id = Api(app, client, add_tokens(app)).submit()
    services = app.state.services
    for restart in range(1, 4):  # three "server restarts", each killed by the job
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child: a worker process that the job kills
            try:
                services.db.engine.dispose(close=False)
                killer = TriageRunners.fixed(KillsItsWorker())
                pool = WorkerPool(services.db, services.store, killer, max_attempts=3)
                with services.db.session() as session:  # what a starting pool does first
                    requeue_orphans(session, LIVE_INSTANCES)
                pool.run_once()
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 137
        job = _job(services.db, case_id)
        assert (job.status, job.attempts) == ("running", restart)
    stub = StubTriage()
    pool = WorkerPool(services.db, services.store, TriageRunners.fixed(stub), size=0, max_attempts=3)
    pool.start()  # the restart requeues the dead worker's job ...
    pool.stop()
    # ... and the fourth claim (a pool not stopping: a stopped one claims nothing) dead-letters it
    fresh = WorkerPool(services.db, services.store, TriageRunners.fixed(stub), size=0, max_attempts=3)
    assert fresh.run_once() is True
    assert stub.started == []
    job, case = _job(services.db, case_id), _case(services.db, case_id)
    assert (job.status, job.attempts) == ("failed", 4)
    assert job.last_error is not None and job.last_error.startswith("dead-lettered")
    assert case.status == "failed"
    assert case.error is not None and "claimed 4 times, over the limit of 3" in case.error


def test_the_celery_task_dead_letters_a_job_claimed_past_its_limit(
    make_settings: Callable[..., Settings], stub_triage: StubTriage, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(workers=0, job_max_attempts=2)
    app = create_app(settings, configure_logs=False, runners=TriageRunners.fixed(stub_triage))
    with TestClient(app) as client:
        case_id = Api(app, client, add_tokens(app)).submit()
    db = app.state.services.db
    for n in range(2):  # two workers that died holding it (pids that do not exist)
        with db.session() as session:
            assert claim(session, f"{HOST}:{2**22 + n}:celery", lease_seconds=0.001) is not None
    for key, value in {
        "DATABASE_URL": settings.database_url,
        "REPAIRDESK_DATA_DIR": str(settings.data_dir),
        "REPAIRDESK_JOB_MAX_ATTEMPTS": "2",
    }.items():
        monkeypatch.setenv(key, value)
    task = SimpleNamespace(request=SimpleNamespace(retries=0))
    job_id = _job(db, case_id).id
    assert celery_app.handle_triage(task, case_id, job_id, celery_context(stub_triage)) == "dead_lettered"
    assert stub_triage.started == []
    case = _case(db, case_id)
    assert case.status == "failed" and "over the limit of 2" in (case.error or "")
    assert _job(db, case_id).status == "failed"
