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
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from app.db.session import Database
from app.jobs import celery_app
from app.jobs.celery_app import TRIAGE_TASK, create_celery_app
from app.jobs.celery_config import DEAD_LETTER_QUEUE, TRIAGE_QUEUE, WorkerOptions
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


def _queues(sqs: Any, max_receive_count: int = 5) -> tuple[str, str]:
    """A work queue whose redrive policy points at a dead-letter queue (what infra/aws creates)."""
    name = f"repairdesk-{uuid.uuid4().hex[:8]}"
    dead = sqs.create_queue(QueueName=f"{name}-dead")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    jobs = sqs.create_queue(
        QueueName=f"{name}-jobs",
        Attributes={
            "VisibilityTimeout": "900",
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
        monkeypatch.setattr(celery_app, "worker_app", celery)
        try:
            settings = Settings(broker=broker, database_url=database_url, data_dir=tmp_path)
            assert check_worker(settings) == problems
        finally:
            celery.close()


@pytest.fixture
def sqs_deployment(sqs: Any, aws: dict[str, str]) -> Iterator[tuple[Deployment, str, str]]:
    jobs, dead = _queues(sqs)
    with scratch_dir() as root:
        deployment = Deployment(
            root,
            broker=f"sqs://{jobs}",
            extra_env={
                **aws,
                "REPAIRDESK_DEAD_LETTER_QUEUE_URL": dead,
                "REPAIRDESK_SQS_REGION": REGION,
                "REPAIRDESK_JOB_MAX_ATTEMPTS": "3",
                "REPAIRDESK_RETRY_BACKOFF_SECONDS": "0.5",
            },
            options={"dead_letter_queue_url": dead, "sqs_region": REGION},
        )
        try:
            yield deployment, jobs, dead
        finally:
            deployment.close()


def _assert_exactly_one_proposal(deployment: Deployment, case_ids: list[str]) -> None:
    counts = deployment.proposals_per_case(case_ids)
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
    assert set(deployment.statuses(case_ids).values()) == {"pending_review"}
    assert set(deployment.job_statuses(case_ids).values()) == {"done"}
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
        monkeypatch.setattr(celery_app, "worker_app", deployment.celery)
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
        assert deployment.job_statuses([case_id]) == {case_id: "failed"}
        assert deployment.job_attempts([case_id]) == {case_id: 3}  # job_max_attempts, no more
        log = failing.log_text()
        assert log.count("model provider unavailable") >= 3
        assert "triage job dead-lettered" in log
        # The task sits on the SQS dead-letter queue; the work queue is empty.
        fleet.stop(timeout=60)
        assert _depth(sqs, dead) == (1, 0)
        assert _depth(sqs, jobs) == (0, 0)

        # After the fix (a healthy worker), the operator replays the dead letters.
        healthy = fleet.start_cli(threads=1)
        assert replay_dead_letters(deployment.db, celery=deployment.celery) == [case_id]
        deployment.wait_for([case_id], timeout=120)
        _assert_exactly_one_proposal(deployment, [case_id])
        assert _depth(sqs, dead) == (0, 0)
        assert "Traceback" not in healthy.log_text()
    finally:
        fleet.stop(timeout=60)
