"""Engine, sessions and schema migration for the service.

``Database`` bundles the engine and a session factory for one URL. ``migrate()`` runs Alembic's
``upgrade head`` programmatically (idempotent; serialised on PostgreSQL by an advisory lock).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tools.db import get_engine, is_postgres

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


class Database:
    """One database: ``session()`` is a context manager that closes (not commits) the session."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = get_engine(url)
        self.is_postgres = is_postgres(url)
        self._factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        # SQLite has one writer at a time and its busy handler polls with growing sleeps (up to
        # 100 ms), so API writers in one process queue on a lock instead; PostgreSQL needs none.
        self._write_lock: AbstractContextManager[object] = (
            nullcontext() if self.is_postgres else threading.Lock()
        )

    def writer(self) -> AbstractContextManager[object]:
        """Hold while running a short write transaction from a request handler."""
        return self._write_lock

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
        config = Config(str(ALEMBIC_INI))
        config.set_main_option("script_location", str(ALEMBIC_INI.parent / "db" / "migrations"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
