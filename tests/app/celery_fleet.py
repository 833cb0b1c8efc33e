"""A throwaway RepairDesk deployment with real Celery worker processes (tests and benchmarks/workers.py).

``Deployment`` is one data directory with a SQLite job database (WAL) holding the agent-test
reference data, plus a broker: a Redis database number (flushed on open and close) or an SQS queue
(``sqs://<queue-url>``, e.g. on moto's server, with ``options`` such as the dead-letter queue URL).
``scratch_dir`` puts the data directory on tmpfs when the machine has one: every case commits a few
dozen times (job row, audit chain, graph checkpoints) and each commit is an fsync on disk, which
measures the disk rather than the workers.
``Fleet`` starts ``celery worker`` nodes against it (solo, or prefork grown at run time with
``pool_grow``) or ``repairdesk worker`` processes (``start_cli``), waits until each pool process has
loaded the agent, and can kill a node with its pool (SIGKILL to the process group) or stop them all
(SIGTERM: warm shutdown). Cases are created the way the API creates them (``create_case``) and
published with ``app.jobs.dispatch.submit``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery
from sqlalchemy import func, select

from app.api.schemas import ExceptionIn
from app.db.models import AuditEvent, Case, Job, Proposal
from app.db.session import Database
from app.jobs.celery_app import create_celery_app
from app.jobs.celery_config import WorkerOptions
from app.jobs.dispatch import submit, worker_argv
from app.services.cases import create_case
from app.services.document_store import LocalDocumentStore
from tests.agents.fixtures import REFDATA, mt103
from tools.db import get_engine
from tools.refdata.loader import load
from tools.refdata.store import RefDataStore

ROOT = Path(__file__).resolve().parents[2]


def _worker_slot() -> int:
    """0 for ``gw0`` (or no pytest-xdist), 1 for ``gw1``, ...: which pytest-xdist worker runs here."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker[2:].isdigit() else 0


# One Redis database per pytest-xdist worker (13 for gw0, 11 for gw1, ...; the one above each for its
# dead letters): files run on both workers at once (--dist loadfile), and two fleets sharing one
# database flush each other's queues when a Deployment starts and take each other's messages (a
# fresh-clone run left a case queued with 0 attempts and a crash test's worker waiting for its task).
_DATABASE = 13 - 2 * (_worker_slot() % 6)
REDIS_URL = os.environ.get("REPAIRDESK_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{_DATABASE}")


def next_database(url: str) -> str:
    """The same Redis server's next database: where a fleet's dead letters go in the tests."""
    base, number = url.rsplit("/", 1)
    return f"{base}/{int(number) + 1}"


def redis_available(url: str = REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def flush_redis(url: str = REDIS_URL) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@contextmanager
def scratch_dir(prefix: str = "repairdesk-fleet-") -> Iterator[Path]:
    """A fresh directory, on tmpfs (``/dev/shm``) when there is one (see the module docstring); removed
    afterwards."""
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Deployment:
    root: Path
    broker: str = REDIS_URL
    extra_env: dict[str, str] = field(default_factory=dict)
    # WorkerOptions for the publishing side (the workers read theirs from the environment).
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = self.root / "var"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = f"sqlite:///{self.data_dir / 'repairdesk.db'}"
        self.db = Database(self.database_url)
        self.db.migrate()
        load(REFDATA, RefDataStore(get_engine(self.database_url)))
        self.store = LocalDocumentStore(self.data_dir / "documents")
        self.is_redis = self.broker.startswith(("redis://", "rediss://"))
        if self.is_redis:
            flush_redis(self.broker)
        self.celery: Celery = create_celery_app(WorkerOptions(broker=self.broker, **self.options))

    @property
    def env(self) -> dict[str, str]:
        return {
            "REPAIRDESK_BROKER": self.broker,
            "REPAIRDESK_DATA_DIR": str(self.data_dir),
            "DATABASE_URL": self.database_url,
            "REPAIRDESK_MODEL": "playbook",
            "REPAIRDESK_LOG_JSON": "false",
            # Short timings so a lost worker's message comes back within seconds, not 15 minutes.
            "REPAIRDESK_VISIBILITY_TIMEOUT": "6",
            "REPAIRDESK_RESTORE_INTERVAL": "1",
            "REPAIRDESK_JOB_LEASE_SECONDS": "60",
            "REPAIRDESK_RETRY_BACKOFF_SECONDS": "0.2",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **self.extra_env,
        }

    def create_cases(self, count: int, prefix: str, *, publish: bool = True) -> list[str]:
        """``count`` AC01 cases (a wrong-checksum IBAN the agent repairs from the SSI), published."""
        ids = []
        with self.db.session() as session:
            for index in range(count):
                body = ExceptionIn(
                    case_id=f"{prefix}-{index:04d}",
                    exception_code="AC01",
                    message=mt103(ref=f"{prefix}{index}"[:16]),
                    customer_id="C-9001",
                )
                ids.append(
                    create_case(session, self.store, body, user="svc-bot", idempotency_key=None).case.id
                )
        if publish:
            for case_id in ids:
                submit(self.db, case_id, self.celery)
        return ids

    def wait_for(self, case_ids: list[str], timeout: float) -> float:
        """Seconds until every case left ``queued``/``triaging``; AssertionError on timeout."""
        started = time.perf_counter()
        while True:
            with self.db.session() as session:
                open_cases = session.scalar(
                    select(func.count())
                    .select_from(Case)
                    .where(Case.id.in_(case_ids), Case.status.in_(("queued", "triaging")))
                )
            if not open_cases:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                still = self.open_jobs(case_ids)
                raise AssertionError(f"{open_cases} of {len(case_ids)} still open after {timeout}s: {still}")
            time.sleep(0.2)

    def open_jobs(self, case_ids: list[str], most: int = 10) -> dict[str, tuple[str, str | None, int | None]]:
        """(case status, job status, job attempts) of up to ``most`` cases still queued or triaging:
        what a timeout reports, so a lost job reads differently from a slow queue."""
        statuses = {k: v for k, v in self.statuses(case_ids).items() if v in ("queued", "triaging")}
        open_ids = sorted(statuses)[:most]
        jobs, attempts = self.job_statuses(open_ids), self.job_attempts(open_ids)
        return {case: (statuses[case], jobs.get(case), attempts.get(case)) for case in open_ids}

    def proposals_per_case(self, case_ids: list[str]) -> dict[str, int]:
        with self.db.session() as session:
            rows = session.execute(
                select(Proposal.case_id, func.count())
                .where(Proposal.case_id.in_(case_ids))
                .group_by(Proposal.case_id)
            ).all()
        counts = dict.fromkeys(case_ids, 0)
        counts.update({case_id: int(n) for case_id, n in rows})
        return counts

    def statuses(self, case_ids: list[str]) -> dict[str, str]:
        with self.db.session() as session:
            return dict(
                session.execute(select(Case.id, Case.status).where(Case.id.in_(case_ids))).tuples().all()
            )

    def job_attempts(self, case_ids: list[str]) -> dict[str, int]:
        return self._of_jobs(Job.attempts, case_ids)

    def job_statuses(self, case_ids: list[str]) -> dict[str, str]:
        return self._of_jobs(Job.status, case_ids)

    def settled_job_statuses(self, case_ids: list[str], timeout: float = 30.0) -> dict[str, str]:
        """Each case's job status once none is ``queued``/``running`` any more (or at ``timeout``): a
        worker commits the proposal (the case leaves ``triaging``), then STP, then marks its job done,
        so a case can wait for review while its job is still finishing."""
        deadline = time.perf_counter() + timeout
        while True:
            statuses = self.job_statuses(case_ids)
            if not {"queued", "running"} & set(statuses.values()) or time.perf_counter() > deadline:
                return statuses
            time.sleep(0.2)

    def _of_jobs(self, column: Any, case_ids: list[str]) -> dict[str, Any]:
        """``column`` of each case's job."""
        with self.db.session() as session:
            rows = session.execute(select(Job.case_id, column).where(Job.case_id.in_(case_ids))).tuples()
            return dict(rows.all())

    def events_per_case(self, case_ids: list[str], event: str) -> dict[str, int]:
        """How many audit events named ``event`` each case has."""
        with self.db.session() as session:
            rows = session.execute(
                select(AuditEvent.case_id, func.count())
                .where(AuditEvent.case_id.in_(case_ids), AuditEvent.event == event)
                .group_by(AuditEvent.case_id)
            ).all()
        counts = dict.fromkeys(case_ids, 0)
        counts.update({str(case_id): int(n) for case_id, n in rows})
        return counts

    def close(self) -> None:
        self.celery.close()
        if self.is_redis:
            flush_redis(self.broker)
        self.db.engine.dispose()


@dataclass
class Worker:
    """One ``celery worker`` node (its own process group) and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def node(self) -> str:
        return f"{self.name}@{socket.gethostname()}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def ready_processes(self) -> int:
        return self.log_text().count("worker process ready")


class Fleet:
    """Celery worker nodes for one deployment: solo nodes, or a prefork node grown at run time."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.workers: list[Worker] = []

    def start(self, concurrency: int = 1, timeout: float = 120.0, pool: str | None = None) -> Worker:
        """Start one node with ``concurrency`` processes; wait until each process has the agent loaded."""
        name = f"w{len(self.workers) + 1}"
        argv = worker_argv(concurrency, loglevel="INFO", node=f"{name}@%h", pool=pool)
        command = [sys.executable, "-m", "celery", "-A", "app.jobs.celery_app:worker_app", *argv]
        return self._start(name, command, concurrency, timeout)

    def start_cli(self, threads: int = 1, timeout: float = 120.0, module: str = "app.cli.main") -> Worker:
        """Start ``repairdesk worker --threads N`` (``module`` may wrap the CLI); with the deployment's
        ``REPAIRDESK_BROKER`` set it runs a Celery node named ``repairdesk@<host>``."""
        name = f"w{len(self.workers) + 1}"
        command = [sys.executable, "-m", module, "worker", "--threads", str(threads)]
        return self._start(name, command, threads, timeout)

    def _start(self, name: str, command: list[str], processes: int, timeout: float) -> Worker:
        env = {**os.environ, **self.deployment.env, "PYTHONPATH": str(ROOT)}
        log = self.deployment.root / f"{name}.log"
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill_node takes the children too
        )
        worker = Worker(name, process, log)
        self.workers.append(worker)
        self._wait(
            worker,
            lambda: " ready." in worker.log_text() and worker.ready_processes() >= processes,
            timeout,
        )
        return worker

    def _wait(self, worker: Worker, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if worker.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker {worker.name} not ready:\n{worker.log_text()[-3000:]}")
            time.sleep(0.2)

    def grow(self, worker: Worker, processes: int, timeout: float = 60.0) -> None:
        """Add ``processes`` pool processes to a prefork node (Celery remote control ``pool_grow``)."""
        expected = worker.ready_processes() + processes
        replies = self.deployment.celery.control.pool_grow(
            processes, destination=[worker.node], reply=True, timeout=10
        )
        assert replies, f"{worker.node} did not answer pool_grow"
        self._wait(worker, lambda: worker.ready_processes() >= expected, timeout)

    def alive(self) -> list[Worker]:
        return [w for w in self.workers if w.process.poll() is None]

    def kill_node(self, worker: Worker) -> None:
        """SIGKILL the node and its pool processes at once (a machine or container that vanishes)."""
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(10)

    def stop(self, timeout: float = 60.0) -> dict[str, int]:
        """Warm shutdown (SIGTERM) of every live node; returns their exit codes."""
        live = self.alive()
        for worker in live:
            worker.process.send_signal(signal.SIGTERM)
        codes = {}
        for worker in live:
            try:
                codes[worker.name] = worker.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(worker.process.pid, signal.SIGKILL)
                codes[worker.name] = worker.process.wait(10)
        return codes
