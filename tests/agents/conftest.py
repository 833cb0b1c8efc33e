"""Fixtures of the agent tests: a reference-data store over tests/agents/fixtures.py, a toolbox, and the
playbook agent over the demo's reference data (``demo_runner``, one per test module)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import create_engine

from agents.runner import TriageRunner
from agents.toolbox import Toolbox, load_procedure_refs
from tests.agents.fixtures import REFDATA
from tests.conftest import ROOT, throwaway_postgres
from tools.agent_tools import build_tools
from tools.refdata.loader import load, load_file
from tools.refdata.store import RefDataStore


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool_config: Callable[..., Any]) -> Path:
    """Each test gets its own data directory (decisions, checkpoints), SQLite and the playbook model;
    the environment too, for the commands tests run in-process (their start-up reads it)."""
    folder = tmp_path / "var"
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REPAIRDESK_MODEL", raising=False)
    tool_config(data_dir=folder, explicit_database_url="", model="playbook")
    return folder


# Intended same shape as tests/tools/payments' demo_store: each suite loads its own reference data.
@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> RefDataStore:
    path = tmp_path_factory.mktemp("refdata") / "ref.db"
    store = RefDataStore(create_engine(f"sqlite:///{path}"))
    load(REFDATA, store)
    return store


@pytest.fixture(scope="module")
def demo_runner(tmp_path_factory: pytest.TempPathFactory) -> TriageRunner:
    store = RefDataStore(create_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"))
    load_file(ROOT / "corpora" / "demo" / "refdata.json", store)
    toolbox = Toolbox(tools=build_tools(store), procedures=load_procedure_refs(), search=None)
    return TriageRunner(checkpointer=InMemorySaver(), toolbox=toolbox)


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
    with throwaway_postgres("repairdesk_agent") as url:
        yield url.replace("postgresql+psycopg://", "postgresql://")
