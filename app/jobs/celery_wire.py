"""The Celery app instance (``worker_app``) and the task names, with no task code.

Senders (:mod:`app.jobs.dispatch`, :mod:`app.jobs.dead_letters`) publish by task name through this
app; the task bodies are registered on it by :mod:`app.jobs.celery_app`, which in turn uses the
senders. Keeping the instance here lets both sides import it without importing each other. Tests
that route sends to their own broker patch ``celery_wire.worker_app``.
"""

from __future__ import annotations

from celery import Celery

from app.jobs.celery_config import TRIAGE_QUEUE, WorkerOptions, celery_config

TRIAGE_TASK = "repairdesk.triage"
EXTRACT_TASK = "repairdesk.extract_document"
INDEX_TASK = "repairdesk.build_index"


def create_celery_app(options: WorkerOptions | None = None) -> Celery:
    """A Celery app configured from ``options`` (the environment by default).

    Without a broker the app is configured for kombu's in-memory transport, so importing this
    module never needs a network; nothing is sent unless a broker is configured."""
    options = options or WorkerOptions.from_settings()
    celery = Celery("repairdesk")
    if options.broker:
        celery.conf.update(celery_config(options))
    else:
        celery.conf.update(broker_url="memory://", task_default_queue=TRIAGE_QUEUE, task_ignore_result=True)
    return celery


worker_app = create_celery_app()
