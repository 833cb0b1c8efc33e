"""Celery workers with a real Redis broker (DB 13, flushed) and real worker processes running the
real agent (playbook model) over a SQLite job database (WAL, on tmpfs when there is one: see
``tests.app.celery_fleet``).

The issue's scale: 500 cases through 1, 2 and 4 worker processes (one prefork node grown with
``pool_grow``), each case a real triage job (the case created as the API creates it, the task published
through ``app.jobs.dispatch``, the real graph, the proposal stored by the worker); every case ends with
exactly one proposal, one ``proposed`` audit event and a ``done`` job claimed once. A warm worker
process triages a case in about 50 ms of CPU; on the 2-core test machine (busy with other work) each
batch of 500 takes 30-50 s, and starting and growing the pool about a minute more.
``REPAIRDESK_TEST_WORKER_CASES`` changes the count (e.g. 30 for a quick local run).
The kill tests freeze a worker process inside a task, kill it (or its whole node) and check that the
``REPAIRDESK_TEST_KILL_CASES`` cases around it (default 100) still end with exactly one proposal each.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import Case, Job
from app.jobs import celery_app, celery_wire
from app.jobs.celery_app import create_celery_app
from app.jobs.celery_config import DEAD_LETTER_QUEUE, TRIAGE_QUEUE, WorkerOptions, celery_config, plan_broker
from app.jobs.dead_letters import dead_letter_depth, replay_dead_letters
from app.jobs.dispatch import broker_queue_depth, check_worker, republish_queued
from app.settings import Settings
from tests.agents.fixtures import mt103
from tests.app.celery_fleet import (
    REDIS_URL,
    Deployment,
    Fleet,
    Worker,
    flush_redis,
    next_database,
    redis_available,
    scratch_dir,
)
from tests.app.conftest import celery_context
from tests.conftest import require
from tools.errors import ValidationError

CASES = int(os.environ.get("REPAIRDESK_TEST_WORKER_CASES", "500"))
KILL_CASES = int(os.environ.get("REPAIRDESK_TEST_KILL_CASES", "100"))
# The dead-letter test runs its task body in-process; its own Redis database keeps the module's
# live workers from consuming the messages it inspects.
DLQ_REDIS_URL = next_database(REDIS_URL)


# --- configuration (fast) -------------------------------------------------------------------------


def test_redis_config_makes_delivery_at_least_once_and_safe() -> None:
    config = celery_config(WorkerOptions(broker="redis://127.0.0.1:6379/13", visibility_timeout=900))
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True
    assert config["worker_prefetch_multiplier"] == 1
    # A new pool process loads the agent before it reports up; Celery's 4 s default would kill it.
    assert config["worker_proc_alive_timeout"] >= 60
    assert config["task_default_queue"] == TRIAGE_QUEUE
    # Longer than the slowest task (10 minutes) and than the job lease default.
    assert config["broker_transport_options"]["visibility_timeout"] == 900
    assert config["broker_transport_options"]["visibility_timeout"] > Settings().job_lease_seconds


def test_sqs_queue_url_becomes_predefined_queues_with_dead_letters() -> None:
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/repairdesk-TriageJobs"
    dlq = "https://sqs.eu-west-1.amazonaws.com/123456789012/repairdesk-Dead"
    plan = plan_broker(WorkerOptions(broker=f"sqs://{url}", dead_letter_queue_url=dlq))
    assert plan.kind == "sqs" and plan.url == "sqs://"
    assert plan.transport_options["region"] == "eu-west-1"
    assert plan.transport_options["predefined_queues"] == {
        TRIAGE_QUEUE: {"url": url},
        DEAD_LETTER_QUEUE: {"url": dlq},
    }
    assert plan.transport_options["visibility_timeout"] == 900


@pytest.mark.parametrize("broker", ["amqp://guest@localhost//", "kafka://x", ""])
def test_unsupported_broker_is_a_typed_error(broker: str) -> None:
    with pytest.raises(ValidationError, match="REPAIRDESK_BROKER"):
        plan_broker(WorkerOptions(broker=broker))


def test_backoff_grows_exponentially_and_is_capped() -> None:
    options = WorkerOptions(retry_backoff_seconds=2, retry_backoff_max_seconds=30)
    delays = [celery_app.backoff_seconds(attempt, options) for attempt in (1, 2, 3, 4, 10)]
    assert (
        2 <= delays[0] <= 2.2 and 4 <= delays[1] <= 4.4 and 8 <= delays[2] <= 8.8 and 16 <= delays[3] <= 17.6
    )
    assert 30 <= delays[4] <= 33


# --- real Redis, real worker processes ------------------------------------------------------------


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    require(redis_available(), f"Redis not reachable at {REDIS_URL}")
    with scratch_dir() as root:
        deployment = Deployment(root)
        yield deployment
        deployment.close()


@pytest.fixture(scope="module")
def fleet(deployment: Deployment) -> Iterator[Fleet]:
    fleet = Fleet(deployment)
    yield fleet
    fleet.stop(timeout=30)


@pytest.fixture(scope="module")
def pool_node(fleet: Fleet) -> Worker:
    """One prefork node, started with one process and grown by the scaling test (imports paid once)."""
    return fleet.start(1, pool="prefork")


def _assert_exactly_one_proposal(deployment: Deployment, case_ids: list[str]) -> None:
    """One proposal row and one ``proposed`` event per case (no duplicate run stored anything twice),
    every case waiting for review and every job ``done``."""
    counts = deployment.proposals_per_case(case_ids)
    wrong = {case_id: n for case_id, n in counts.items() if n != 1}
    assert not wrong, f"cases without exactly one proposal: {dict(list(wrong.items())[:10])}"
    events = deployment.events_per_case(case_ids, "proposed")
    assert set(events.values()) == {1}, {k: v for k, v in events.items() if v != 1}
    assert set(deployment.statuses(case_ids).values()) == {"pending_review"}
    assert set(deployment.settled_job_statuses(case_ids).values()) == {"done"}


def _pids_of_running_jobs(deployment: Deployment) -> dict[int, str]:
    with deployment.db.session() as session:
        rows = session.execute(select(Job.case_id, Job.locked_by).where(Job.status == "running")).all()
    return {int(str(locked_by).split(":")[1]): case_id for case_id, locked_by in rows}


def _freeze_a_process_inside_a_task(deployment: Deployment, pids: Callable[[], set[int]]) -> tuple[int, str]:
    """SIGSTOP a worker process while its job row says ``running``; returns (pid, case id)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for pid, case_id in _pids_of_running_jobs(deployment).items():
            if pid not in pids():
                continue
            os.kill(pid, signal.SIGSTOP)
            if _pids_of_running_jobs(deployment).get(pid) == case_id:
                return pid, case_id  # frozen mid-task
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("never caught a worker process inside a task")


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_cases_through_workers(deployment: Deployment, fleet: Fleet, pool_node: Worker, workers: int) -> None:
    grow = workers - len(_children(pool_node.process.pid))
    if grow > 0:
        fleet.grow(pool_node, grow)
    assert len(_children(pool_node.process.pid)) == workers
    started = time.perf_counter()
    case_ids = deployment.create_cases(CASES, f"N{workers}")
    deployment.wait_for(case_ids, timeout=60 + CASES * 0.5)
    seconds = time.perf_counter() - started
    _assert_exactly_one_proposal(deployment, case_ids)
    # No delivery ran a job twice: one claim per job (a redelivery of a finished job claims nothing).
    assert set(deployment.job_attempts(case_ids).values()) == {1}
    print(
        f"{CASES} cases through {workers} worker process(es): {seconds:.1f} s, {CASES / seconds:.1f} cases/s"
    )


@pytest.mark.slow
def test_pool_process_killed_mid_task_is_requeued_and_proposes_once(
    deployment: Deployment, fleet: Fleet, pool_node: Worker
) -> None:
    case_ids = deployment.create_cases(KILL_CASES, "CHILD")
    pid, victim_case = _freeze_a_process_inside_a_task(deployment, lambda: _children(pool_node.process.pid))
    os.kill(pid, signal.SIGKILL)  # the parent sees WorkerLostError and rejects the message (requeue)
    deployment.wait_for(case_ids, timeout=90)
    _assert_exactly_one_proposal(deployment, case_ids)
    assert deployment.job_attempts([victim_case])[victim_case] == 2, "the killed job was not taken over"
    assert "WorkerLostError" in pool_node.log_text()


@pytest.mark.slow
def test_node_killed_then_survivor_shut_down_warmly(
    deployment: Deployment, fleet: Fleet, pool_node: Worker
) -> None:
    survivor = fleet.start(1, pool="solo")
    case_ids = deployment.create_cases(KILL_CASES, "NODE")
    _pid, victim_case = _freeze_a_process_inside_a_task(deployment, lambda: _children(pool_node.process.pid))
    fleet.kill_node(pool_node)  # the whole node and its pool vanish; their messages stay unacknowledged
    # The survivor restores them after the visibility timeout and takes the jobs over from the dead pids.
    # Alone it triages most of the cases (the pool died early), one process on a loaded 2-core CI
    # machine: 120 s once left 1 of 100 open; a timeout names the open cases' jobs and the victim.
    try:
        deployment.wait_for(case_ids, timeout=240)
    except AssertionError as exc:
        tail = survivor.log_text()[-3000:]
        raise AssertionError(f"{exc}; victim {victim_case}; survivor log:\n{tail}") from None
    _assert_exactly_one_proposal(deployment, case_ids)
    assert deployment.job_attempts([victim_case])[victim_case] == 2

    # Graceful shutdown: SIGTERM while busy finishes the running task and puts reserved ones back.
    more = deployment.create_cases(20, "TERM")
    deadline = time.monotonic() + 30
    while survivor.process.pid not in _pids_of_running_jobs(deployment) and time.monotonic() < deadline:
        time.sleep(0.01)
    survivor.process.send_signal(signal.SIGTERM)  # what ECS sends on scale-in or a deployment
    assert survivor.process.wait(30) == 0
    assert "Warm shutdown" in survivor.log_text()
    assert survivor.process.pid not in _pids_of_running_jobs(deployment), "warm shutdown left its job running"
    counts = deployment.proposals_per_case(more)
    assert set(counts.values()) <= {0, 1} and any(counts.values())
    waiting = [case_id for case_id, n in counts.items() if n == 0]
    assert set(deployment.statuses(waiting).values()) <= {"queued"}
    # Each waiting case still has its message. At-least-once: a reserved message whose job finished may
    # also be put back; its redelivery is a no-op (the job is done), so the depth can exceed the count.
    assert broker_queue_depth(TRIAGE_QUEUE, deployment.celery) >= len(waiting)


@pytest.mark.slow
def test_check_reports_broker_and_database(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(database_url=deployment.database_url, broker=REDIS_URL, data_dir=deployment.data_dir)
    monkeypatch.setattr(celery_wire, "worker_app", deployment.celery)
    assert check_worker(settings) == []
    broken = Settings(
        database_url=f"sqlite:///{deployment.root / 'missing' / 'x.db'}", data_dir=deployment.data_dir
    )
    assert any(p.startswith("database") for p in check_worker(broken))


# --- retries, dead letters and replay (the task body in-process, the queues in real Redis) ---------


class CrashingAgent:
    """An agent that raises a non-input error on every start (a provider outage, a bug)."""

    def __init__(self) -> None:
        self.starts = 0

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        self.starts += 1
        raise RuntimeError("model provider unavailable")

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("not used")


class Retried(Exception):
    pass


class FakeDelivery:
    """The parts of a bound Celery task that ``handle_triage`` uses, recording retries."""

    def __init__(self) -> None:
        self.request = SimpleNamespace(retries=0)
        self.countdowns: list[float] = []

    def retry(self, *, countdown: float, **_: Any) -> Exception:
        self.countdowns.append(countdown)
        self.request.retries += 1
        return Retried()

    def apply_async(self, *_: Any, **__: Any) -> None:
        raise AssertionError("not expected")


def test_exhausted_retries_dead_letter_then_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require(redis_available(DLQ_REDIS_URL), f"Redis not reachable at {DLQ_REDIS_URL}")
    deployment = Deployment(tmp_path, broker=DLQ_REDIS_URL)
    try:
        for key, value in deployment.env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("REPAIRDESK_JOB_MAX_ATTEMPTS", "3")
        monkeypatch.setattr(celery_wire, "worker_app", deployment.celery)
        agent = CrashingAgent()
        worker = celery_context(agent)
        [case_id] = deployment.create_cases(1, "DLQ", publish=False)
        with deployment.db.session() as session:
            job_id = session.scalar(select(Job.id).where(Job.case_id == case_id))
        assert job_id is not None
        delivery = FakeDelivery()
        outcomes = []
        for _ in range(5):
            try:
                outcomes.append(celery_app.handle_triage(delivery, case_id, job_id, worker))
                break
            except Retried:
                outcomes.append("retry")
        assert outcomes == ["retry", "retry", "dead_lettered"]
        assert agent.starts == 3
        assert delivery.countdowns[1] > delivery.countdowns[0]  # backoff grows
        assert deployment.statuses([case_id]) == {case_id: "failed"}
        assert dead_letter_depth(deployment.celery) == 1
        # A duplicate delivery of the failed job is acknowledged without running the agent.
        assert celery_app.handle_triage(FakeDelivery(), case_id, job_id, worker) == "finished"
        assert agent.starts == 3

        replayed = replay_dead_letters(deployment.db, celery=deployment.celery)
        assert replayed == [case_id]
        assert dead_letter_depth(deployment.celery) == 0
        with deployment.db.session() as session:
            case = session.scalar(select(Case).where(Case.id == case_id))
            job = session.get(Job, job_id)
            assert case is not None and job is not None
            assert (case.status, job.status, job.attempts) == ("queued", "queued", 0)
        # The replay published a fresh triage task on the work queue.
        assert broker_queue_depth(TRIAGE_QUEUE, deployment.celery) == 1
        assert republish_queued(deployment.db, older_than=0, celery=deployment.celery) == 1
    finally:
        deployment.close()


# Intended same set-up as the test above: a deployment of its own, with no worker running.
def test_a_job_whose_message_was_lost_is_published_again_once_the_queue_is_idle(tmp_path: Path) -> None:
    from app.jobs.dispatch import republish_when_idle

    require(redis_available(DLQ_REDIS_URL), f"Redis not reachable at {DLQ_REDIS_URL}")
    deployment = Deployment(tmp_path, broker=DLQ_REDIS_URL)
    try:
        # One job with its message waiting, one whose message was lost (never published here).
        deployment.create_cases(1, "WAIT")
        [lost] = deployment.create_cases(1, "LOST", publish=False)
        assert broker_queue_depth(TRIAGE_QUEUE, deployment.celery) == 1
        # Messages still wait: an old queued job is most likely behind them, so nothing is sent.
        assert republish_when_idle(deployment.db, 0, deployment.celery) == 0
        with deployment.celery.connection_for_write() as connection:
            connection.default_channel.queue_purge(TRIAGE_QUEUE)  # the waiting one was taken
        assert broker_queue_depth(TRIAGE_QUEUE, deployment.celery) == 0
        assert republish_when_idle(deployment.db, 3600, deployment.celery) == 0  # not old enough yet
        assert republish_when_idle(deployment.db, 0, deployment.celery) == 2
        assert broker_queue_depth(TRIAGE_QUEUE, deployment.celery) == 2
        assert deployment.statuses([lost]) == {lost: "queued"}
    finally:
        deployment.close()


@pytest.mark.slow
def test_a_running_worker_publishes_a_lost_job_again(tmp_path: Path) -> None:
    """The worker's own republisher, end to end: a job with no message is triaged without anyone
    running ``repairdesk jobs republish``."""
    require(redis_available(DLQ_REDIS_URL), f"Redis not reachable at {DLQ_REDIS_URL}")
    deployment = Deployment(tmp_path, broker=DLQ_REDIS_URL, extra_env={"REPAIRDESK_REPUBLISH_AFTER": "2"})
    fleet = Fleet(deployment)
    try:
        [lost] = deployment.create_cases(1, "GONE", publish=False)
        fleet.start(1, pool="solo")
        deployment.wait_for([lost], timeout=90)
        _assert_exactly_one_proposal(deployment, [lost])
    finally:
        fleet.stop(timeout=30)
        deployment.close()


# Intended same set-up as the test above: each test opens its own deployment.
def test_extract_document_task_caches_the_extraction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.db.models import Document
    from tests.agents.fixtures import mt103

    require(redis_available(DLQ_REDIS_URL), f"Redis not reachable at {DLQ_REDIS_URL}")
    deployment = Deployment(tmp_path, broker=DLQ_REDIS_URL)
    try:
        for key, value in deployment.env.items():
            monkeypatch.setenv(key, value)
        celery_app.worker_process.forget()  # the task's process context is built from this environment
        good, bad = mt103().encode(), b"\x00\x01 not a document"
        digests = [deployment.store.put(data) for data in (good, bad)]
        with deployment.db.session() as session:
            for digest, data in zip(digests, (good, bad), strict=True):
                session.add(Document(sha256=digest, size=len(data), kind="fin"))
            session.commit()
        run = celery_app.extract_document.apply
        assert run(args=(digests[0], "payment.fin")).get() == "done"
        assert run(args=(digests[0], "payment.fin")).get() == "cached"
        assert run(args=(digests[1], "junk.bin")).get() == "error"
        assert run(args=("0" * 64, "absent")).get() == "missing"
        with deployment.db.session() as session:
            stored = session.get(Document, digests[0])
            junk = session.get(Document, digests[1])
            assert (
                stored is not None and stored.extraction and stored.extraction[0]["doc_type"] == "swift.mt103"
            )
            assert (
                junk is not None and junk.extraction is None and "junk.bin" in (junk.extraction_error or "")
            )
    finally:
        celery_app.worker_process.forget()
        deployment.close()


def test_api_with_a_broker_publishes_the_job_and_runs_no_local_pool(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.app.conftest import add_tokens

    require(redis_available(DLQ_REDIS_URL), f"Redis not reachable at {DLQ_REDIS_URL}")
    flush_redis(DLQ_REDIS_URL)
    celery = create_celery_app(WorkerOptions(broker=DLQ_REDIS_URL))
    monkeypatch.setattr(celery_wire, "worker_app", celery)
    app = create_app(make_settings(broker=DLQ_REDIS_URL, workers=2), configure_logs=False)
    try:
        with TestClient(app) as client:
            headers = add_tokens(app)
            assert app.state.services.pool is None  # Celery workers run the jobs
            body = {"case_id": "EXC-BROKER-1", "exception_code": "AC01", "message": mt103(ref="REF1")}
            response = client.post("/v1/exceptions", json=body, headers=headers["service"])
            assert response.status_code == 202, response.text
            assert client.get("/readyz").json()["checks"]["workers"] == "celery"
            with app.state.services.db.session() as session:
                job_id = session.scalar(select(Job.id).where(Job.case_id == "EXC-BROKER-1"))
            with celery.connection_for_read() as connection:
                queue = connection.SimpleQueue(TRIAGE_QUEUE)
                message = queue.get(timeout=2)
                assert message.headers["task"] == celery_app.TRIAGE_TASK
                assert json.loads(message.body)[0] == ["EXC-BROKER-1", job_id]
                message.ack()
                queue.close()
            # A retried POST (same case id and body) creates nothing and publishes nothing.
            assert client.post("/v1/exceptions", json=body, headers=headers["service"]).status_code == 202
            assert broker_queue_depth(TRIAGE_QUEUE, celery) == 0
    finally:
        flush_redis(DLQ_REDIS_URL)


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_claim_rules_for_redelivered_messages(db_url: str, tmp_path: Path) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from app.api.schemas import ExceptionIn
    from app.db.session import Database
    from app.jobs.job_claims import claim_job
    from app.jobs.queue import HOST, now
    from app.services.cases import create_case
    from app.services.document_store import LocalDocumentStore

    db = Database(db_url)
    with db.session() as session:
        create_case(
            session,
            LocalDocumentStore(tmp_path / "docs"),
            ExceptionIn(case_id="EXC-CLAIM", exception_code="AC01", message=mt103(ref="X")),
            user="svc",
            idempotency_key=None,
        )
        job_id = session.scalar(select(Job.id).where(Job.case_id == "EXC-CLAIM"))
    assert job_id is not None

    def set_job(**values: Any) -> None:
        with db.session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(**values))
            session.commit()

    def claim(worker: str) -> Any:
        with db.session() as session:
            return claim_job(session, job_id, worker, lease_seconds=60)

    me, other_live = f"{HOST}:{os.getpid()}:celery", f"{HOST}:{os.getpid()}:another-instance"
    first = claim(me)
    assert first.state == "claimed" and first.job is not None and first.job.attempts == 1
    busy = claim("elsewhere:1:celery")  # a live holder on another host: wait for its lease
    assert busy.state == "busy" and 50 < busy.retry_in <= 60
    assert claim(me).state == "claimed"  # the holder itself (a retry in the same process)
    set_job(locked_by=other_live)
    assert claim("elsewhere:1:celery").state == "busy"
    set_job(locked_by=f"{HOST}:{_dead_pid()}:celery")  # its process is gone: take over at once
    taken = claim("elsewhere:1:celery")
    assert taken.state == "claimed" and taken.job is not None and taken.job.attempts == 3
    set_job(locked_by="gone:1:celery", lease_until=now() - timedelta(seconds=1))  # lease expired
    assert claim(me).state == "claimed"
    set_job(status="done")
    assert claim(me).state == "finished"
    with db.session() as session:
        assert claim_job(session, 999_999, me, 60).state == "missing"
