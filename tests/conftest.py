"""Shared fixtures. Tests mirror the project layout: tests/tools, tests/agents, tests/app, ..."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("REPAIRDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")


def require(condition: bool, reason: str) -> None:
    """Skip outside CI when an external prerequisite is missing; fail in CI (never a silent skip)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing prerequisite in CI: {reason}")
    pytest.skip(reason)


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
