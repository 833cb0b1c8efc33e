"""Engine, sessions and schema migration for the service.

``Database`` bundles the engine and a session factory for one URL. ``migrate()`` runs Alembic's
``upgrade head`` programmatically (idempotent; serialised on PostgreSQL by an advisory lock).

``writer()`` serialises the API's short write transactions on SQLite, across threads and across
server processes (``repairdesk serve --processes N``): SQLite has one writer at a time and its busy
handler waits by polling with growing sleeps (up to 100 ms each), so two processes contending for
the lock add tens of milliseconds to a write that takes one or two. An ``flock`` on a file beside
the database queues them in the kernel instead, which wakes the next writer as soon as the lock is
released. ``group_commit`` runs those transactions, batched, on one writer thread per process
(:mod:`app.db.group_commit`). PostgreSQL needs neither (row locks; the audit head row serialises
chain appends).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import TracebackType

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.db.group_commit import GroupCommit
from tools.db import get_engine, is_postgres

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


try:
    import fcntl
except ImportError:  # not POSIX: the in-process lock only
    fcntl = None  # type: ignore[assignment]


class SqliteWriteLock:
    """A thread lock plus, for a database file, an exclusive ``flock`` on ``<file>-writer.lock``."""

    def __init__(self, database_file: Path | None) -> None:
        self._thread_lock = threading.Lock()
        self.path = None if fcntl is None or database_file is None else Path(f"{database_file}-writer.lock")
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self.path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child must not share the parent's
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self) -> SqliteWriteLock:
        self._thread_lock.acquire()
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


class Database:
    """One database: ``session()`` is a context manager that closes (not commits) the session."""

    def __init__(self, url: str, *, audit_key: object | None = None) -> None:
        self.url = url
        self.engine: Engine = get_engine(url)
        self.is_postgres = is_postgres(url)
        # The audit chain's HMAC key (app.services.audit_keys.AuditKey) travels with each session, so
        # every append in this process signs with the key its settings name; None: the environment's.
        self.audit_key = audit_key
        self._factory = sessionmaker(bind=self.engine, expire_on_commit=False, info={"audit_key": audit_key})
        self._write_lock: AbstractContextManager[object] = (
            nullcontext() if self.is_postgres else SqliteWriteLock(_sqlite_file(url))
        )
        # SQLite: the API's case inserts, batched by one thread per process (module docstring)
        self.group_commit: GroupCommit | None = (
            None if self.is_postgres else GroupCommit(self._factory, self._write_lock)
        )

    def writer(self) -> AbstractContextManager[object]:
        """Hold while running a short write transaction from a request handler (module docstring)."""
        return self._write_lock

    @property
    def inline_reads(self) -> bool:
        """Whether a short read may run on the event loop rather than in the thread pool.

        SQLite in WAL mode: a read never waits for a writer's lock and takes well under a
        millisecond, less than the hop to a thread. PostgreSQL reads cross the network: no."""
        return not self.is_postgres

    def connect(self) -> Connection:
        """A Core connection (``with db.connect() as conn``): reads that need no ORM session."""
        return self.engine.connect()

    def new_session(self) -> Session:
        """A session the caller closes."""
        return self._factory()

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (``alembic upgrade head``)."""
        run_migrations(self.engine, "head")


def run_migrations(engine: Engine, revision: str, *, down: bool = False) -> None:
    """``alembic upgrade|downgrade revision`` on ``engine``.

    SQLite: a migration that changes a constraint copies the table (Alembic's batch mode), and
    dropping the old copy with foreign keys on would cascade-delete every row that refers to it
    (decisions, proposals, jobs of each case). Foreign keys are off while it runs (the pragma only
    takes effect outside a transaction) and checked afterwards."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "db" / "migrations"))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                (command.downgrade if down else command.upgrade)(config, revision)
            if sqlite:
                dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                connection.commit()
                if dangling is not None:
                    raise RuntimeError(
                        f"the migration left rows whose foreign keys point nowhere: {dangling}"
                    )
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
