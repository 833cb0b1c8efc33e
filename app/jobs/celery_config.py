"""Celery configuration for RepairDesk's distributed workers, derived from the environment.

Contract: ``celery_config(options)`` returns the Celery settings dict for ``options.broker``:

- ``redis://host:port/db``: kombu's Redis transport. The triage queue and a separate dead-letter
  queue (no worker consumes it) live in the same Redis database.
- ``sqs://`` followed by a queue URL (``sqs://https://sqs.eu-west-1.amazonaws.com/123/triage``, what
  ``infra/aws`` sets) or a bare ``sqs://``: kombu's SQS transport through boto3. With a URL the queue
  is *predefined* (no ``CreateQueue`` permission needed); the dead-letter queue URL comes from
  ``REPAIRDESK_DEAD_LETTER_QUEUE_URL`` and SQS's own redrive policy covers messages that crash a
  worker repeatedly. With predefined queues the queue's own ``VisibilityTimeout`` applies (infra/aws
  sets 15 minutes). The endpoint is boto3's (``AWS_ENDPOINT_URL_SQS`` points it at ElasticMQ, moto or
  a VPC endpoint) and so are the credentials (the task role, or ``AWS_ACCESS_KEY_ID``...).

At-least-once delivery is made safe here and in :mod:`app.jobs.celery_app`: messages are acknowledged
after the task finishes (``acks_late``), a task whose worker process died is put back
(``task_reject_on_worker_lost``), a worker reserves one message at a time, and the broker's visibility
timeout is longer than the slowest task so a running task is not handed to a second worker.
A bad broker URL raises :class:`tools.errors.ValidationError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from tools.errors import ValidationError

# SQS long poll: a receive waits up to this long on the server. A consumer that dies meanwhile leaves
# the request open there, and a message arriving in that window is taken by it: it comes back only
# after the queue's visibility timeout (at-least-once delivery, late but not lost).
SQS_LONG_POLL_SECONDS = 10

if TYPE_CHECKING:
    from app.settings import Settings

TRIAGE_QUEUE = "repairdesk-triage"
DEAD_LETTER_QUEUE = "repairdesk-dead-letters"


class WorkerOptions(BaseModel):
    """The distributed-worker knobs. Only :class:`app.settings.Settings` reads the environment
    (``REPAIRDESK_*``); :meth:`from_settings` copies them here, tests build their own."""

    # Intended copy of Settings' worker fields (meanings there): tests build options without the
    # environment; tests/shape/test_configuration.py keeps names and defaults in step.
    broker: str | None = None
    # Longer than the slowest task (OCR of a long scan plus an LLM triage stays under 10 minutes).
    visibility_timeout: float = Field(default=900.0, gt=0)
    # How often a worker looks for messages whose holder vanished (Redis); a fraction of the timeout.
    restore_interval: float = Field(default=10.0, gt=0)
    # A job still queued this long while the triage queue is empty lost its message (a worker killed
    # between taking it off the queue and recording it as unacknowledged): publish it again (0: never).
    republish_after: float = Field(default=120.0, ge=0)
    retry_backoff_seconds: float = Field(default=2.0, ge=0)
    retry_backoff_max_seconds: float = Field(default=300.0, ge=0)
    dead_letter_queue_url: str | None = None  # SQS only: where exhausted tasks go
    sqs_region: str | None = None
    warm_start: bool = True  # load the agent when a worker process starts, not on its first task
    process_start_timeout: float = Field(default=300.0, gt=0)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> WorkerOptions:
        """The options ``settings`` holds (by default a fresh read of the environment)."""
        from app.settings import Settings

        source = settings if settings is not None else Settings()
        return cls(**{name: getattr(source, name) for name in cls.model_fields})


@dataclass(frozen=True)
class BrokerPlan:
    """What :func:`plan_broker` makes of a broker URL: kombu's URL and transport options."""

    kind: str  # "redis" or "sqs"
    url: str
    transport_options: dict[str, Any]


def _sqs_region(queue_url: str, fallback: str | None) -> str | None:
    # https://sqs.<region>.amazonaws.com/<account>/<name>
    host = urlsplit(queue_url).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs":
        return parts[1]
    return fallback


def plan_broker(options: WorkerOptions) -> BrokerPlan:
    """Translate ``REPAIRDESK_BROKER`` into kombu terms; ``ValidationError`` for anything else."""
    broker = (options.broker or "").strip()
    timeouts = {"visibility_timeout": int(options.visibility_timeout)}
    if broker.startswith(("redis://", "rediss://")):
        return BrokerPlan(
            kind="redis",
            url=broker,
            transport_options={
                **timeouts,
                # Sweep for abandoned messages every restore_interval seconds (kombu's default
                # throttles the sweep to every 10th tick, i.e. minutes, too slow for a lost worker).
                "unacked_restore_interval": max(1, int(options.restore_interval)),
                "unacked_restore_throttle": 1,
            },
        )
    if broker.startswith("sqs://"):
        rest = broker[len("sqs://") :]
        transport: dict[str, Any] = {
            **timeouts,
            "wait_time_seconds": SQS_LONG_POLL_SECONDS,
            "polling_interval": 1,
            # boto3's defaults wait 60 s to connect, retried: a health check or a publish from the API
            # would hang for minutes on an unreachable endpoint. The read timeout covers the long poll.
            "client-config": {
                "connect_timeout": 5,
                "read_timeout": 30,
                "retries": {"max_attempts": 3, "mode": "standard"},
            },
        }
        if options.sqs_region:
            transport["region"] = options.sqs_region
        if rest.startswith(("https://", "http://")):
            region = _sqs_region(rest, options.sqs_region)
            if region:
                transport["region"] = region
            queues = {TRIAGE_QUEUE: {"url": rest}}
            if options.dead_letter_queue_url:
                queues[DEAD_LETTER_QUEUE] = {"url": options.dead_letter_queue_url}
            transport["predefined_queues"] = queues
            return BrokerPlan(kind="sqs", url="sqs://", transport_options=transport)
        # sqs://[key:secret@][host[:port]]: kombu's own form (queues created by name).
        return BrokerPlan(kind="sqs", url=broker, transport_options=transport)
    raise ValidationError(
        "unsupported broker URL; use redis://host:port/db or sqs://<queue-url>",
        source="REPAIRDESK_BROKER",
    )


def celery_config(options: WorkerOptions) -> dict[str, Any]:
    """The Celery settings for ``options`` (see the module docstring)."""
    plan = plan_broker(options)
    return {
        "broker_url": plan.url,
        "broker_transport_options": plan.transport_options,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": TRIAGE_QUEUE,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A task that raises is acknowledged: its retry is a new message and the DB records the failure.
        "task_acks_on_failure_or_timeout": True,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "worker_prefetch_multiplier": 1,
        "worker_proc_alive_timeout": options.process_start_timeout,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        # Jobs are tracked in the database; no result backend is needed.
        "result_backend": None,
        "broker_connection_timeout": 5,
    }
