"""Checkpointers: SQLite at ``$REPAIRDESK_DATA_DIR/checkpoints.sqlite`` by default, PostgreSQL when
``DATABASE_URL`` is ``postgresql://...``. Both are set up (tables created) before they are returned,
so a thread interrupted in one process resumes in another that opens the same file or database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from tools import config
from tools.config import data_dir
from tools.db import is_postgres
from tools.faults import crash_point


class CrashPointSqliteSaver(SqliteSaver):
    """SqliteSaver with the crash point ``checkpoint.before_put`` (tools.faults): a kill after a step's
    task writes were saved and before the step's checkpoint, the gap a crash can fall into."""

    def put(self, config, checkpoint, metadata, new_versions):
        crash_point("checkpoint.before_put")
        return super().put(config, checkpoint, metadata, new_versions)


def sqlite_checkpointer(path: Path | str | None = None) -> SqliteSaver:
    """The SQLite checkpointer (inert crash point included: see :class:`CrashPointSqliteSaver`)."""
    target = Path(path) if path else data_dir() / "checkpoints.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(target), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")  # readers (the API) do not block the writing worker
    saver = CrashPointSqliteSaver(conn)
    saver.setup()
    return saver


def postgres_checkpointer(url: str) -> BaseCheckpointSaver[str]:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1).replace(
        "postgres://", "postgresql://", 1
    )
    pool: ConnectionPool = ConnectionPool(
        plain,
        min_size=1,
        max_size=8,
        open=True,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    saver = PostgresSaver(pool)  # type: ignore[arg-type]
    saver.setup()
    return saver


def default_checkpointer() -> BaseCheckpointSaver[str]:
    url = config.current().explicit_database_url
    if url and is_postgres(url):
        return postgres_checkpointer(url)
    return sqlite_checkpointer()
