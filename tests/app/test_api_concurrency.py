"""Concurrent writers: server processes share one audit chain, SQLite writers queue on one lock, a
case posted twice at once is created once; and the queue page's timestamps after its fast path."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.api.schemas import ExceptionIn
from app.db.models import AuditEvent, Case, Job
from app.db.session import Database
from app.services.audit import verify_chain
from app.services.cases import Created, create_case
from app.services.document_store import LocalDocumentStore
from tests.agents.fixtures import mt103
from tests.app.conftest import Api

PER_PROCESS = 20


def _submit_many(url: str, docs: str, prefix: str, start: Any) -> None:
    """Runs in a child process: what `repairdesk serve --processes N` does per POST."""
    db = Database(url)
    store = LocalDocumentStore(Path(docs))
    start.wait(30)
    for n in range(PER_PROCESS):
        body = ExceptionIn(case_id=f"{prefix}-{n}", exception_code="AC01", message=mt103(ref=f"{prefix}{n}"))
        with db.session() as session:
            create_case(session, store, body, user=prefix, idempotency_key=None, group_commit=db.group_commit)
    db.engine.dispose()


def test_two_server_processes_submitting_at_once_keep_one_unbroken_audit_chain(
    db_url: str, tmp_path: Path
) -> None:
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    children = [
        spawn.Process(target=_submit_many, args=(db_url, str(tmp_path / "docs"), name, start))
        for name in ("P1", "P2")
    ]
    for child in children:
        child.start()
    start.set()
    for child in children:
        child.join(120)
        assert child.exitcode == 0
    db = Database(db_url)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2 * PER_PROCESS
        assert session.scalar(select(func.count()).select_from(Job)) == 2 * PER_PROCESS
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        assert seqs == list(range(1, 2 * PER_PROCESS + 1))
        report = verify_chain(session)
    assert report.ok and report.checked == 2 * PER_PROCESS


def _hold_writer(url: str, held: Any, seconds: float) -> None:
    with Database(url).writer():
        held.set()
        time.sleep(seconds)


def test_the_sqlite_writer_lock_excludes_another_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'repairdesk.db'}"
    spawn = multiprocessing.get_context("spawn")
    held = spawn.Event()
    child = spawn.Process(target=_hold_writer, args=(url, held, 1.0))
    child.start()
    try:
        assert held.wait(60), "the child never took the lock"
        started = time.monotonic()
        with Database(url).writer():
            waited = time.monotonic() - started
        assert waited > 0.5, f"took the lock after {waited:.2f} s while another process held it"
    finally:
        child.join(30)


def test_the_same_case_posted_at_once_is_created_once(api: Api) -> None:
    # No write lock here: like two server processes on PostgreSQL, the database's unique index decides.
    services = api.app.state.services
    body = ExceptionIn(case_id="EXC-RACE", exception_code="AC01", message=mt103(ref="RACE"))
    barrier = threading.Barrier(6)
    results: list[Created | BaseException] = []

    def post() -> None:
        barrier.wait(10)
        try:
            with services.db.session() as session:
                results.append(create_case(session, services.store, body, user="svc", idempotency_key=None))
        except BaseException as exc:  # collected: the assertion below names it
            results.append(exc)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(r, Created) for r in results), results
    created = [r for r in results if isinstance(r, Created)]
    assert len(created) == 6 and {r.case.id for r in created} == {"EXC-RACE"}
    assert sum(r.created for r in created) == 1
    page = api.queue()
    assert [item["case_id"] for item in page["items"]] == ["EXC-RACE"]


def test_queue_items_carry_utc_iso_times_and_ages(api: Api) -> None:
    before = datetime.now(UTC)
    case_id = api.submit()
    [item] = api.queue()["items"]
    assert item["case_id"] == case_id and item["status"] in {"queued", "triaging", "pending_review"}
    assert set(item) == {
        "case_id",
        "status",
        "exception_code",
        "action",
        "confidence",
        "customer_id",
        "created_at",
        "updated_at",
        "age_seconds",
        # the desk's queue columns (amount, currency, beneficiary, value date, assignee)
        "amount",
        "currency",
        "beneficiary",
        "value_date",
        "assignee",
        # straight-through processing: applied without a person, and its QA state
        "straight_through",
        "qa_status",
    }
    created = datetime.fromisoformat(item["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC)
    assert datetime.fromisoformat(item["updated_at"]) >= created
    assert 0 <= item["age_seconds"] <= (datetime.now(UTC) - created).total_seconds() + 0.01
