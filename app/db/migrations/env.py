"""Alembic environment: uses the connection handed over by app.db.session.migrate, or DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from app.db.models import Base
from tools.db import get_engine

config = context.config
target_metadata = Base.metadata
VERSION_TABLE = config.get_main_option("version_table") or "repairdesk_app_version"


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two processes starting at once (api and worker) must not both create the tables.
        connection.execute(text("SELECT pg_advisory_xact_lock(727001)"))
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or None
    engine = get_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


run_migrations_online()
