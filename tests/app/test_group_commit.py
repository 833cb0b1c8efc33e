"""Group commit on SQLite: concurrent writers share transactions, a bad piece fails alone, and the
API's POSTs go through it (races included); the app freezes its start-up heap out of the GC's view."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.api.schemas import ExceptionIn
from app.db.group_commit import GroupCommit
from app.db.models import AuditEvent, Case, Job
from app.db.session import Database, SqliteWriteLock
from app.main import create_app
from app.services.audit import verify_chain
from app.services.cases import Created, create_case
from app.settings import Settings
from tests.agents.fixtures import mt103
from tests.app.conftest import Api

_ROWS = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("who", String))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'group.db'}")
    _ROWS.create(db.engine)
    yield db
    assert db.group_commit is not None
    db.group_commit.close()
    db.engine.dispose()


def _slow_lock(db: Database, hold: float) -> GroupCommit:
    """A group commit whose lock is held ``hold`` s longer per transaction, so work piles up behind it."""
    lock = SqliteWriteLock(None)

    class Slow:
        def __enter__(self) -> None:
            lock.__enter__()
            time.sleep(hold)

        def __exit__(self, *exc: object) -> None:
            lock.__exit__(None, None, None)

    return GroupCommit(db.new_session, Slow())


def _insert(row_id: int, who: str) -> Callable[[Session], int]:
    def work(session: Session) -> int:
        session.connection().execute(insert(_ROWS), {"id": row_id, "who": who})
        return row_id * 10

    return work


def _in_threads(count: int, target: Callable[[int], object]) -> list[object]:
    results: list[object] = [None] * count

    def call(i: int) -> None:
        try:
            results[i] = target(i)
        except BaseException as exc:  # collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _count(db: Database) -> int:
    with db.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(_ROWS)).scalar_one())


def test_concurrent_work_is_committed_in_shared_transactions(database: Database) -> None:
    committer = _slow_lock(database, 0.05)
    results = _in_threads(20, lambda i: committer.run(_insert(i, "t")))
    committer.close()
    assert results == [i * 10 for i in range(20)]  # each caller gets its own work's result
    assert _count(database) == 20
    assert committer.batches >= 1  # some transactions held more than one piece of work


def test_a_failing_piece_fails_only_its_caller(database: Database) -> None:
    committer = _slow_lock(database, 0.05)
    committer.run(_insert(7, "first"))  # row 7 exists: a second insert of 7 violates the key

    def work(i: int) -> int:
        return committer.run(_insert(7 if i == 3 else 100 + i, f"t{i}"))

    results = _in_threads(10, work)
    committer.close()
    assert isinstance(results[3], IntegrityError)
    assert [r for i, r in enumerate(results) if i != 3] == [(100 + i) * 10 for i in range(10) if i != 3]
    with database.connect() as connection:
        rows = dict(connection.execute(select(_ROWS.c.id, _ROWS.c.who)).all())
    assert rows[7] == "first" and len(rows) == 10


def test_work_of_an_unexpected_kind_is_raised_to_its_caller(database: Database) -> None:
    assert database.group_commit is not None

    def broken(session: Session) -> None:
        raise KeyError("mapping bug")

    with pytest.raises(KeyError, match="mapping bug"):
        database.group_commit.run(broken)
    assert database.group_commit.run(_insert(1, "after")) == 10  # the writer thread survives


def test_close_finishes_the_work_already_handed_in(database: Database) -> None:
    committer = _slow_lock(database, 0.02)
    threads = [threading.Thread(target=committer.run, args=(_insert(i, "c"),)) for i in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    committer.close()
    for thread in threads:
        thread.join(10)
    assert _count(database) == 8


def test_postgres_databases_have_no_group_commit(db_url: str) -> None:
    db = Database(db_url)
    assert (db.group_commit is None) == db.is_postgres


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_api_commits_posts_through_group_commit(api: Api) -> None:
    committer = api.app.state.services.db.group_commit
    assert committer is not None
    before = committer.committed
    case_id = api.submit(case_id="GC-HTTP")
    assert committer.committed == before + 1
    assert api.view(case_id)["status"] in ("queued", "triaging", "pending_review")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_concurrent_posts_through_group_commit_keep_one_chain_and_dedupe_races(api: Api) -> None:
    services = api.app.state.services
    db: Database = services.db
    assert db.group_commit is not None
    bodies = [
        ExceptionIn(case_id=f"GC-{i}", exception_code="AC01", message=mt103(ref=f"GC{i}")) for i in range(12)
    ]
    race = ExceptionIn(case_id="GC-RACE", exception_code="AC01", message=mt103(ref="RACE"))

    def post(i: int) -> Created:
        body = race if i >= 12 else bodies[i]
        with db.session() as session:
            return create_case(
                session, services.store, body, user="svc", idempotency_key=None, group_commit=db.group_commit
            )

    results = _in_threads(18, post)
    assert all(isinstance(r, Created) for r in results), results
    created = [r for r in results if isinstance(r, Created)]
    assert sum(r.created for r in created if r.case.id == "GC-RACE") == 1  # six racers, one case
    assert {r.case.id for r in created} == {f"GC-{i}" for i in range(12)} | {"GC-RACE"}
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 13
        assert session.scalar(select(func.count()).select_from(Job)) == 13
        created_events = select(func.count()).where(AuditEvent.event == "case_created")
        assert session.scalar(created_events) == 13
        report = verify_chain(session)  # the triage worker may have appended events of its own
    assert report.ok and report.checked >= 13


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_app_freezes_its_start_up_objects(make_settings: Callable[..., Settings]) -> None:
    # gc.freeze at start-up (app.main): a full collection would otherwise walk every module object
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        with TestClient(create_app(make_settings(workers=0, freeze_heap=False), configure_logs=False)):
            assert gc.get_freeze_count() == 0  # the tests' setting
        with TestClient(create_app(make_settings(workers=0, freeze_heap=True), configure_logs=False)):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # the rest of this test process builds more apps
