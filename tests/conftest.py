"""Shared fixtures. Tests mirror the project layout: tests/tools, tests/agents, tests/app, ..."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("REPAIRDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")


@pytest.fixture(autouse=True)
def tool_config() -> Iterator[Callable[..., Any]]:
    """``tool_config(corpora_dir=..., clock=...)`` changes what tools/ and agents/ run with for this
    test; whatever a test (or a CLI command it invokes in-process) installed is undone afterwards."""
    from dataclasses import replace

    from tools import config

    previous = config.current()

    def use(**changes: Any) -> Any:
        changed = replace(config.current(), **changes)
        config.configure(changed)
        return changed

    yield use
    config.configure(previous)


def load_script(path: Path, name: str) -> ModuleType:
    """Import the script at ``path`` (a benchmark, a builder, an infra tool: not in a package) as ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def require(condition: bool, reason: str) -> None:
    """Skip outside CI when an external prerequisite is missing; fail in CI (never a silent skip)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing prerequisite in CI: {reason}")
    pytest.skip(reason)


POSTGRES_ADMIN_URL = os.environ.get(
    "REPAIRDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@contextmanager
def throwaway_postgres(prefix: str = "repairdesk_test") -> Iterator[str]:
    """A fresh database on the local server (a psycopg URL), dropped afterwards.

    Tests share one server, so each gets its own database; fails in CI when PostgreSQL is down.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tools.db import get_engine, normalise_url

    admin_url = normalise_url(POSTGRES_ADMIN_URL)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any connection failure means the prerequisite is missing
        require(False, f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}")
        raise
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    require(SHARED_DATA.is_dir(), f"shared fixtures not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_corpus_index(tmp_path_factory: pytest.TempPathFactory) -> object:
    """One index of the shipped corpus (corpora/procedures and corpora/reference) per test session.

    Built with the committed embedding cache (corpora/index-cache), so it normally embeds nothing;
    returns the :class:`tools.retrieval.index_store.BuildReport` (``.index_dir`` is the folder).
    """
    from tools.retrieval.index_store import build_index
    from tools.retrieval.procedures import default_corpus_dirs

    dirs = default_corpus_dirs()
    require(all(d.is_dir() for d in dirs), "corpora/procedures or corpora/reference missing")
    return build_index(dirs, tmp_path_factory.mktemp("real-index"))
