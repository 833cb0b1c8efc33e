"""Fixtures of the agent tests: a reference-data store over tests/agents/fixtures.py and a toolbox."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agents.toolbox import Toolbox, load_procedure_refs
from tests.agents.fixtures import REFDATA
from tests.conftest import require
from tools.agent_tools import build_tools
from tools.db import normalise_url
from tools.refdata.loader import load
from tools.refdata.store import RefDataStore

PG_URL = os.environ.get("REPAIRDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own data directory (decisions, checkpoints)."""
    folder = tmp_path / "var"
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REPAIRDESK_MODEL", raising=False)
    return folder


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> RefDataStore:
    path = tmp_path_factory.mktemp("refdata") / "ref.db"
    store = RefDataStore(create_engine(f"sqlite:///{path}"))
    load(REFDATA, store)
    return store


class CountingToolbox(Toolbox):
    """A toolbox that counts tool runs, to prove nothing runs twice."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[str] = []

    def call(self, name: str, args: Any) -> dict[str, Any]:
        self.calls.append(name)
        return super().call(name, args)


@pytest.fixture(scope="session")
def procedures() -> list[Any]:
    return load_procedure_refs()


@pytest.fixture
def toolbox(fixture_store: RefDataStore, procedures: list[Any]) -> CountingToolbox:
    return CountingToolbox(tools=build_tools(fixture_store), procedures=procedures, search=None)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database on the local server, dropped afterwards (fails in CI when PG is down)."""
    admin_url = normalise_url(PG_URL)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any connection failure means the prerequisite is missing
        require(False, f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
        raise
    name = f"repairdesk_agent_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url.replace("postgresql+psycopg://", "postgresql://")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
