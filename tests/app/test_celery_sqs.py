"""The SQS broker configuration against moto's server mode (a real HTTP SQS endpoint on loopback):
``REPAIRDESK_BROKER=sqs://<queue-url>`` publishes triage tasks to that predefined queue and dead
letters to ``REPAIRDESK_DEAD_LETTER_QUEUE_URL``, through kombu's SQS transport and boto3."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from app.jobs.celery_app import TRIAGE_TASK, create_celery_app
from app.jobs.celery_config import DEAD_LETTER_QUEUE, TRIAGE_QUEUE, WorkerOptions

REGION = "eu-west-1"


@pytest.fixture
def sqs(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # boto3 (and so kombu) send every call here
    return boto3.client("sqs", region_name=REGION, endpoint_url=moto_endpoint)


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    # kombu's SQS transport sends the kombu message as base64-encoded JSON.
    return [json.loads(base64.b64decode(m["Body"])) for m in messages]


def test_tasks_go_to_the_predefined_queue_and_dead_letters_to_the_dlq(sqs: Any) -> None:
    dead = sqs.create_queue(QueueName="repairdesk-dead")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    jobs = sqs.create_queue(
        QueueName="repairdesk-jobs",
        Attributes={
            "VisibilityTimeout": "900",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
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
