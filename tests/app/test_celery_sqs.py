"""The SQS broker against moto's server mode (a real HTTP SQS endpoint on loopback), through kombu's SQS
transport and boto3 with fake credentials:

- ``REPAIRDESK_BROKER=sqs://<queue-url>`` publishes triage tasks to that predefined queue and dead
  letters to ``REPAIRDESK_DEAD_LETTER_QUEUE_URL``;
- a real ``repairdesk worker`` process consumes triage jobs published by the API and by
  ``app.jobs.dispatch`` from SQS, and every case ends with exactly one proposal;
- a task that fails on every attempt is retried with backoff up to ``job_max_attempts``, then parked on
  the SQS dead-letter queue, from where ``replay_dead_letters`` sends it back to work.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.models import Job
from app.db.session import Database
from app.jobs import celery_wire
from app.jobs.celery_app import TRIAGE_TASK, create_celery_app
from app.jobs.celery_config import DEAD_LETTER_QUEUE, SQS_LONG_POLL_SECONDS, TRIAGE_QUEUE, WorkerOptions
from app.jobs.dead_letters import replay_dead_letters
from app.jobs.dispatch import check_worker
from app.main import create_app
from app.settings import Settings
from tests.agents.fixtures import mt103
from tests.app.celery_fleet import Deployment, Fleet, scratch_dir
from tests.app.conftest import add_tokens

REGION = "eu-west-1"


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fake credentials and moto as the SQS endpoint, here and for the worker processes."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        # The SDKs' service-specific endpoint override: SQS calls (boto3's and kombu's) go to moto.
        "AWS_ENDPOINT_URL_SQS": moto_endpoint,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def sqs(aws: dict[str, str]) -> Any:
    return boto3.client("sqs", region_name=REGION)


def _queues(sqs: Any, max_receive_count: int = 5, visibility_timeout: int = 900) -> tuple[str, str]:
    """A work queue whose redrive policy points at a dead-letter queue (what infra/aws creates)."""
    name = f"repairdesk-{uuid.uuid4().hex[:8]}"
    dead = sqs.create_queue(QueueName=f"{name}-dead")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    jobs = sqs.create_queue(
        QueueName=f"{name}-jobs",
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": str(max_receive_count)}
            ),
        },
    )["QueueUrl"]
    return jobs, dead


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    # kombu's SQS transport sends the kombu message as base64-encoded JSON.
    return [json.loads(base64.b64decode(m["Body"])) for m in messages]


def _depth(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue, without receiving any."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def test_tasks_go_to_the_predefined_queue_and_dead_letters_to_the_dlq(sqs: Any) -> None:
    jobs, dead = _queues(sqs)
    celery = create_celery_app(
        WorkerOptions(broker=f"sqs://{jobs}", dead_letter_queue_url=dead, sqs_region=REGION)
    )
    try:
        celery.send_task(TRIAGE_TASK, args=("EXC-1", 7), queue=TRIAGE_QUEUE)
        celery.send_task(TRIAGE_TASK, args=("EXC-2", 8), queue=DEAD_LETTER_QUEUE)
    finally:
        celery.close()
    [work] = _received(sqs, jobs)
    [parked] = _received(sqs, dead)
    assert work["headers"]["task"] == parked["headers"]["task"] == TRIAGE_TASK
    assert json.loads(base64.b64decode(work["body"]))[0] == ["EXC-1", 7]
    assert json.loads(base64.b64decode(parked["body"]))[0] == ["EXC-2", 8]


def test_worker_check_asks_the_sqs_queue_itself(
    sqs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs, _dead = _queues(sqs)
    database_url = f"sqlite:///{tmp_path / 'repairdesk.db'}"
    Database(database_url).migrate()
    for broker, problems in (
        (f"sqs://{jobs}", []),
        # The endpoint answers but the queue does not exist (a wrong URL, a deleted stack).
        (f"sqs://{jobs.rsplit('/', 1)[0]}/no-such-queue", ["broker: QueueDoesNotExist"]),
    ):
        celery = create_celery_app(WorkerOptions(broker=broker, sqs_region=REGION))
        monkeypatch.setattr(celery_wire, "worker_app", celery)
        try:
            settings = Settings(broker=broker, database_url=database_url, data_dir=tmp_path)
            assert check_worker(settings) == problems
        finally:
            celery.close()


@contextmanager
def _deployment(
    sqs: Any, aws: dict[str, str], visibility_timeout: int = 900, **env: str
) -> Iterator[tuple[Deployment, str, str]]:
    """A deployment whose broker is a fresh SQS work queue (with its dead-letter queue) on moto."""
    jobs, dead = _queues(sqs, visibility_timeout=visibility_timeout)
    with scratch_dir() as root:
        deployment = Deployment(
            root,
            broker=f"sqs://{jobs}",
            extra_env={
                **aws,
                "REPAIRDESK_DEAD_LETTER_QUEUE_URL": dead,
                "REPAIRDESK_SQS_REGION": REGION,
                **env,
            },
            options={"dead_letter_queue_url": dead, "sqs_region": REGION},
        )
        try:
            yield deployment, jobs, dead
        finally:
            deployment.close()


@pytest.fixture
def sqs_deployment(sqs: Any, aws: dict[str, str]) -> Iterator[tuple[Deployment, str, str]]:
    with _deployment(
        sqs, aws, REPAIRDESK_JOB_MAX_ATTEMPTS="3", REPAIRDESK_RETRY_BACKOFF_SECONDS="0.5"
    ) as deployed:
        yield deployed


def _assert_exactly_one_proposal(deployment: Deployment, case_ids: list[str]) -> None:
    counts = deployment.proposals_per_case(case_ids)
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
    assert set(deployment.statuses(case_ids).values()) == {"pending_review"}
    assert set(deployment.settled_job_statuses(case_ids).values()) == {"done"}
    assert set(deployment.events_per_case(case_ids, "proposed").values()) == {1}


@pytest.mark.slow
def test_repairdesk_worker_consumes_triage_jobs_from_sqs(
    sqs: Any, sqs_deployment: tuple[Deployment, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment, jobs, dead = sqs_deployment
    fleet = Fleet(deployment)
    try:
        worker = fleet.start_cli(threads=2)  # prefork, two processes: what one ECS task runs
        assert "sqs://" in worker.log_text()
        # Jobs published by app.jobs.dispatch (the path the API takes after its commit) ...
        case_ids = deployment.create_cases(40, "SQS")
        # ... and one through the HTTP API itself, whose process-wide Celery app points at SQS.
        monkeypatch.setattr(celery_wire, "worker_app", deployment.celery)
        settings = Settings(
            data_dir=deployment.data_dir,
            database_url=deployment.database_url,
            broker=deployment.broker,
            migrate_on_startup=False,
            log_json=True,
            log_level="WARNING",
        )
        app = create_app(settings, configure_logs=False)
        with TestClient(app) as client:
            body = {
                "case_id": "SQS-API",
                "exception_code": "AC01",
                "message": mt103(ref="SQSAPI"),
                "customer_id": "C-9001",
            }
            response = client.post("/v1/exceptions", json=body, headers=add_tokens(app)["service"])
            assert response.status_code == 202, response.text
        case_ids.append("SQS-API")
        deployment.wait_for(case_ids, timeout=180)
        _assert_exactly_one_proposal(deployment, case_ids)
        # Every message was acknowledged, i.e. deleted from SQS; nothing was dead-lettered.
        assert _depth(sqs, jobs) == (0, 0)
        assert _depth(sqs, dead) == (0, 0)
        assert "Traceback" not in worker.log_text()
    finally:
        codes = fleet.stop(timeout=60)
    assert codes == {"w1": 0}


@pytest.mark.slow
def test_failing_task_is_dead_lettered_on_sqs_after_bounded_retries_then_replayed(
    sqs: Any, sqs_deployment: tuple[Deployment, str, str]
) -> None:
    deployment, jobs, dead = sqs_deployment
    fleet = Fleet(deployment)
    try:
        failing = fleet.start_cli(threads=1, module="tests.app.failing_worker")
        [case_id] = deployment.create_cases(1, "SQSDLQ")
        deployment.wait_for([case_id], timeout=120)
        assert deployment.statuses([case_id]) == {case_id: "failed"}
        assert deployment.settled_job_statuses([case_id]) == {case_id: "failed"}
        assert deployment.job_attempts([case_id]) == {case_id: 3}  # job_max_attempts, no more
        log = failing.log_text()
        assert log.count("model provider unavailable") >= 3
        assert "triage job dead-lettered" in log
        # The task sits on the SQS dead-letter queue; the work queue is empty.
        fleet.stop(timeout=60)
        assert _depth(sqs, dead) == (1, 0)
        assert _depth(sqs, jobs) == (0, 0)
        # The stopped worker's last long poll can still be open on the server: a message replayed in
        # that window is taken by it and stays invisible for the queue's 900 s visibility timeout
        # (seen once in a fresh-clone run: the case stayed queued, no worker ever received it).
        time.sleep(SQS_LONG_POLL_SECONDS + 1)

        # After the fix (a healthy worker), the operator replays the dead letters.
        healthy = fleet.start_cli(threads=1)
        assert replay_dead_letters(deployment.db, celery=deployment.celery) == [case_id]
        try:
            # A fresh worker loads the agent before it polls; on the loaded 2-core CI machine this wait
            # once ran past 120 s (the test passed alone), so the limit leaves room for that.
            deployment.wait_for([case_id], timeout=240)
        except AssertionError as exc:  # say what the worker did, not only that the case stayed open
            tail = healthy.log_text()[-4000:]
            raise AssertionError(f"{exc}; the healthy worker's log ends:\n{tail}") from exc
        _assert_exactly_one_proposal(deployment, [case_id])
        assert _depth(sqs, dead) == (0, 0)
        assert "Traceback" not in healthy.log_text()
    finally:
        fleet.stop(timeout=60)


# --- a node killed while it holds triage jobs ------------------------------------------------------

# The work queue's own VisibilityTimeout applies to predefined queues (REPAIRDESK_VISIBILITY_TIMEOUT
# does not): a short one brings the killed node's unacknowledged messages back within seconds.
SHORT_VISIBILITY = 5


@pytest.fixture
def short_visibility_deployment(sqs: Any, aws: dict[str, str]) -> Iterator[tuple[Deployment, str, str]]:
    with _deployment(sqs, aws, visibility_timeout=SHORT_VISIBILITY) as deployed:
        yield deployed


def _running_jobs_by_pid(deployment: Deployment) -> dict[int, str]:
    """pid (from ``locked_by`` = ``host:pid:celery``) -> case id of every ``running`` job row."""
    with deployment.db.session() as session:
        rows = session.execute(select(Job.case_id, Job.locked_by).where(Job.status == "running")).all()
    return {int(str(locked_by).split(":")[1]): case_id for case_id, locked_by in rows}


def _pool_children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def _freeze_a_pool_process_inside_a_task(deployment: Deployment, node_pid: int) -> tuple[int, str]:
    """SIGSTOP a pool process of the node while its job row says ``running``; (pid, case id)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = _pool_children(node_pid)
        for pid, case_id in _running_jobs_by_pid(deployment).items():
            if pid not in children:
                continue
            os.kill(pid, signal.SIGSTOP)
            if _running_jobs_by_pid(deployment).get(pid) == case_id:
                return pid, case_id  # frozen mid-task: its message is received, not acknowledged
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("never caught a worker process inside a task")


def _wait_for_depth(sqs: Any, url: str, done: Any, timeout: float) -> tuple[int, int]:
    """Poll the queue's (visible, in flight) counts until ``done(depth)``; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        depth = _depth(sqs, url)
        if done(depth):
            return depth
        if time.monotonic() > deadline:
            raise AssertionError(f"queue depth still {depth} after {timeout}s")
        time.sleep(0.25)


# Intended same shape as the test above: each SQS test opens its own deployment.
@pytest.mark.slow
def test_node_killed_holding_jobs_on_sqs_loses_none_and_proposes_once(
    sqs: Any, short_visibility_deployment: tuple[Deployment, str, str]
) -> None:
    deployment, jobs, dead = short_visibility_deployment
    fleet = Fleet(deployment)
    try:
        doomed = fleet.start_cli(threads=2)  # prefork, two pool processes
        case_ids = deployment.create_cases(15, "SQSKILL")
        _pid, victim_case = _freeze_a_pool_process_inside_a_task(deployment, doomed.process.pid)
        # The frozen process's message (and whatever the node had reserved) is in flight on SQS.
        in_flight = _depth(sqs, jobs)[1]
        assert in_flight >= 1
        fleet.kill_node(doomed)  # the node and its pool vanish: no ack, no reject, no release
        # The claim commits before the case is marked ``triaging`` and the proposal is stored before the
        # job is finished, so the frozen process may have left the case in any of these states; its job
        # row stays ``running`` under the dead pid.
        assert deployment.statuses([victim_case])[victim_case] in {"queued", "triaging", "pending_review"}
        assert deployment.job_statuses([victim_case]) == {victim_case: "running"}

        # SQS (moto) makes the unacknowledged messages visible again once the queue's timeout passes.
        killed_at = time.monotonic()
        visible, _ = _wait_for_depth(
            sqs, jobs, lambda d: d[1] == 0 and d[0] >= 1, timeout=SHORT_VISIBILITY + 15
        )
        reappeared_after = time.monotonic() - killed_at
        open_cases = [c for c, s in deployment.statuses(case_ids).items() if s in ("queued", "triaging")]
        assert open_cases and visible >= 1
        assert deployment.job_statuses([victim_case]) == {victim_case: "running"}

        # A worker started after the kill takes the jobs over from the dead pids and finishes them all.
        survivor = fleet.start_cli(threads=1)
        deployment.wait_for(case_ids, timeout=90)
        _assert_exactly_one_proposal(deployment, case_ids)
        # The victim's job was claimed by the killed process and once more by the survivor.
        assert deployment.job_attempts([victim_case]) == {victim_case: 2}
        # Every message was deleted (a redelivery of a finished job is acknowledged as a no-op); none
        # was dead-lettered.
        _wait_for_depth(sqs, jobs, lambda d: d == (0, 0), timeout=SHORT_VISIBILITY * 3)
        assert _depth(sqs, dead) == (0, 0)
        assert "Traceback" not in survivor.log_text()
        print(
            f"killed with {len(open_cases)} of {len(case_ids)} cases open and {in_flight} message(s) in "
            f"flight; {visible} visible again {reappeared_after:.1f} s after the kill"
        )
    finally:
        codes = fleet.stop(timeout=60)
    assert codes == {"w2": 0}
