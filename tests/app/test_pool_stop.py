"""Stopping the in-process worker pool: idle threads are not waited for, jobs in flight finish."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.models import Job
from app.jobs.pool import WorkerPool
from app.jobs.triage import TriageRunners
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import Api, StubTriage, add_tokens


class GatedTriage(StubTriage):
    """Signals when a job has begun, then holds it until the test lets it go."""

    def __init__(self) -> None:
        super().__init__(gate=threading.Event())
        self.entered = threading.Event()

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        self.entered.set()
        return super().start(case, thread_id)


def test_an_idle_pool_stops_at_once_even_while_its_agent_loads(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(workers=0), configure_logs=False)
    with TestClient(app) as client:
        Api(app, client, add_tokens(app)).submit()  # a queued job the loading threads could take
    services = app.state.services
    loading = threading.Event()

    def slow_agent() -> StubTriage:  # what loading the real agent looks like to the pool: seconds
        loading.set()
        time.sleep(3)
        return StubTriage()

    pool = WorkerPool(
        services.db, services.store, TriageRunners(lambda _model: slow_agent()), size=2, poll_seconds=0.05
    )
    pool.start()
    assert loading.wait(5)
    started = time.monotonic()
    pool.stop()
    assert time.monotonic() - started < 1.0
    time.sleep(3.2)  # the loaders finished after the stop: they must not have claimed the job
    with services.db.session() as session:
        assert session.scalars(select(Job.status)).all() == ["queued"]


def test_stop_finishes_the_job_in_flight(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(workers=0), configure_logs=False)
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        case_id = api.submit()
        services = app.state.services
        triage = GatedTriage()
        pool = WorkerPool(services.db, services.store, TriageRunners.fixed(triage), size=1, poll_seconds=0.05)
        pool.start()
        assert triage.entered.wait(10)
        stopped = threading.Event()
        stopper = threading.Thread(target=lambda: (pool.stop(), stopped.set()))
        stopper.start()
        assert not stopped.wait(0.5)  # the job holds the stop...
        assert triage.gate is not None
        triage.gate.set()
        assert stopped.wait(10)  # ...until it is done
        stopper.join()
        with services.db.session() as session:
            assert session.scalars(select(Job.status)).all() == ["done"]
        assert api.view(case_id)["status"] == "pending_review"
