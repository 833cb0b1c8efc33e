"""Alembic migrations on SQLite and PostgreSQL: the head schema matches the models, and 0002 (the
proposals' ``model_usage`` column) upgrades a database holding 0001 data and downgrades cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from app.db.models import Base
from app.db.session import run_migrations
from tests.conftest import throwaway_postgres
from tools.db import get_engine

VERSION_TABLE = "repairdesk_app_version"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database without any table (a file, or a throwaway PostgreSQL database)."""
    if request.param == "sqlite":
        engine = get_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    with throwaway_postgres("repairdesk_migrations") as url:
        yield get_engine(url)


# A case as revision 0001 stored it (the columns every later revision keeps).
OLD_CASE = text(
    "INSERT INTO cases (id, exception_code, status, payload, request_hash, created_by, "
    "created_at, updated_at) VALUES ('EXC-OLD', 'AC01', 'pending_review', '{}', 'h', 'svc', "
    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    run_migrations(engine, revision, down=down)


def _version(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one())


def _proposal_columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("proposals")}


def test_head_schema_matches_the_models(empty_engine: Engine) -> None:
    _migrate(empty_engine, "head")
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        differences: list[Any] = compare_metadata(context, Base.metadata)
    assert differences == []


def test_0002_adds_model_usage_to_existing_proposals_and_downgrades(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0001")
    assert "model_usage" not in _proposal_columns(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(OLD_CASE)
        connection.execute(
            text(
                "INSERT INTO proposals (case_id, version, source, author, payload, created_at) "
                "VALUES ('EXC-OLD', 1, 'agent', 'agent', '{\"action\": \"repair\"}', CURRENT_TIMESTAMP)"
            )
        )

    _migrate(empty_engine, "0002")
    assert _version(empty_engine) == "0002"
    assert "model_usage" in _proposal_columns(empty_engine)
    usage = '{"calls": 2, "input_tokens": 2400, "output_tokens": 75, "cost_usd": "0.00222"}'
    with empty_engine.begin() as connection:
        old = connection.execute(text("SELECT model_usage FROM proposals WHERE case_id = 'EXC-OLD'")).one()
        assert old.model_usage is None  # the existing row is kept, without usage
        connection.execute(
            text(
                "INSERT INTO proposals (case_id, version, source, author, payload, model_usage, created_at) "
                "VALUES ('EXC-OLD', 2, 'agent', 'agent', '{}', :usage, CURRENT_TIMESTAMP)"
            ),
            {"usage": usage},
        )

    _migrate(empty_engine, "0001", down=True)
    assert _version(empty_engine) == "0001"
    assert "model_usage" not in _proposal_columns(empty_engine)
    with empty_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM proposals")).scalar_one() == 2
    _migrate(empty_engine, "head")  # and up again
    assert "model_usage" in _proposal_columns(empty_engine)


def test_0003_keeps_decisions_and_unkeyed_events_and_scopes_idempotency_keys(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0002")
    case = (
        "INSERT INTO cases (id, exception_code, status, payload, request_hash, created_by, idempotency_key, "
        "created_at, updated_at) VALUES (:id, 'AC01', 'approved', '{}', 'h', :user, 'k1', CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP)"
    )
    with empty_engine.begin() as connection:
        connection.execute(text(case), {"id": "EXC-A", "user": "svc-a"})
        connection.execute(
            text(
                'INSERT INTO decisions (case_id, decision, "user", comment, changes, created_at) '
                "VALUES ('EXC-A', 'approve', 'alice', '', '[]', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO audit_events (seq, case_id, event, actor, data, created_at, prev_hash, hash) "
                "VALUES (1, 'EXC-A', 'case_created', 'svc-a', '{}', '2026-11-01', :z, :z)"
            ),
            {"z": "0" * 64},
        )
    _migrate(empty_engine, "0003_crashsafe")
    assert _version(empty_engine) == "0003_crashsafe"
    with empty_engine.begin() as connection:
        assert connection.execute(text("SELECT state FROM decisions")).scalar_one() == "applied"
        assert connection.execute(text("SELECT key_id FROM audit_events")).scalar_one() is None
        connection.execute(text(case), {"id": "EXC-B", "user": "svc-b"})  # another client, the same key
    with pytest.raises(Exception, match=r"(?i)unique"), empty_engine.begin() as connection:
        connection.execute(text(case), {"id": "EXC-C", "user": "svc-a"})  # the same client, the same key
    with empty_engine.begin() as connection:
        connection.execute(text("DELETE FROM cases WHERE id = 'EXC-B'"))
    _migrate(empty_engine, "0002", down=True)
    assert "state" not in {c["name"] for c in inspect(empty_engine).get_columns("decisions")}
    _migrate(empty_engine, "0003_crashsafe")
    assert _version(empty_engine) == "0003_crashsafe"


def test_0005_realdocs_adds_layout_rules_and_downgrades(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0002")
    assert "layout_rules" not in inspect(empty_engine).get_table_names()
    _migrate(empty_engine, "0005_realdocs")
    columns = {column["name"] for column in inspect(empty_engine).get_columns("layout_rules")}
    assert {"id", "document_id", "field", "rule", "created_by", "deleted_at"} <= columns
    _migrate(empty_engine, "0002", down=True)
    assert "layout_rules" not in inspect(empty_engine).get_table_names()


def _case_columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("cases")}


def test_0006_desk_adds_the_queue_columns_to_existing_cases_and_downgrades(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0002")
    with empty_engine.begin() as connection:
        connection.execute(OLD_CASE)
    _migrate(empty_engine, "0006_desk")
    desk = {"assignee", "amount", "currency", "beneficiary", "value_date", "triage_thread", "triage_model"}
    assert desk <= _case_columns(empty_engine)
    indexes = {index["name"] for index in inspect(empty_engine).get_indexes("cases")}
    assert {"ix_cases_assignee", "ix_cases_amount", "ix_cases_value_date", "ix_cases_status_seq"} <= indexes
    with empty_engine.begin() as connection:
        old = connection.execute(
            text("SELECT status, assignee, amount FROM cases WHERE id = 'EXC-OLD'")
        ).one()
        assert tuple(old) == ("pending_review", None, None)  # kept; the new columns empty
        connection.execute(text("UPDATE cases SET assignee = 'ana', amount = 12.5 WHERE id = 'EXC-OLD'"))
    _migrate(empty_engine, "0002", down=True)
    assert not desk & _case_columns(empty_engine)
    with empty_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar_one() == 1


def test_0007_stp_keeps_existing_cases_off_straight_through_and_downgrades(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0006_desk")
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cases (id, exception_code, status, payload, request_hash, created_by, "
                "created_at, updated_at) VALUES ('EXC-OLD', 'AC01', 'applied', '{}', 'h', 'svc', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    _migrate(empty_engine, "0007_stp")
    tables = set(inspect(empty_engine).get_table_names())
    assert {"stp_policies", "stp_control", "stp_applications"} <= tables
    with empty_engine.connect() as connection:
        old = connection.execute(
            text("SELECT straight_through, qa_status FROM cases WHERE id = 'EXC-OLD'")
        ).one()
        assert (bool(old[0]), old[1]) == (False, None)  # decided by people before STP existed
        switch = connection.execute(text("SELECT id, kill_switch FROM stp_control")).all()
        assert [(row[0], bool(row[1])) for row in switch] == [(1, False)]  # seeded: off
    _migrate(empty_engine, "0006_desk", down=True)
    assert not {"straight_through", "qa_status"} & _case_columns(empty_engine)
    assert "stp_control" not in set(inspect(empty_engine).get_table_names())
    _migrate(empty_engine, "head")
