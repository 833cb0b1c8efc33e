"""SQLAlchemy engines for SQLite (default) and PostgreSQL (``DATABASE_URL=postgresql://...``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url

from tools.config import database_url


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_postgres(url: str) -> bool:
    return normalise_url(url).startswith("postgresql")


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process. SQLite gets WAL and a busy timeout for concurrent workers."""
    resolved = normalise_url(url or database_url())
    if resolved.startswith("sqlite"):
        # A file's pool as large as a server process's busy threads: past pool_size, QueuePool
        # opens a connection per checkout and closes it on return, which costs more than the query.
        in_memory = make_url(resolved).database in (None, "", ":memory:")
        pool = {} if in_memory else {"pool_size": 20, "max_overflow": 20}
        engine = create_engine(resolved, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(resolved, pool_pre_ping=True, pool_size=10, max_overflow=20)
