"""A reference-data store loaded once with the committed demo data (corpora/demo/refdata.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.db import get_engine
from tools.refdata.loader import load_file
from tools.refdata.store import RefDataStore

DEMO = Path(__file__).resolve().parents[3] / "corpora" / "demo" / "refdata.json"


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> RefDataStore:
    path = tmp_path_factory.mktemp("refdata") / "demo.db"
    store = RefDataStore(get_engine(f"sqlite:///{path}"))
    load_file(DEMO, store)
    return store
