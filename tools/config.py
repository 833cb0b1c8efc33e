"""Locations and connection settings shared by tools, agents and the app (environment-driven).

The app's pydantic-settings ``Settings`` reads the same variables; this module exists so that
``tools/`` and ``agents/`` never import ``app/``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """``REPAIRDESK_DATA_DIR`` (default ``./var``): SQLite file, index, documents, checkpoints."""
    path = Path(os.environ.get("REPAIRDESK_DATA_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """``DATABASE_URL``, defaulting to the SQLite file in the data directory."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir() / 'repairdesk.db'}"


def corpora_dir() -> Path:
    return Path(os.environ.get("REPAIRDESK_CORPORA_DIR", REPO_ROOT / "corpora"))


def prompts_dir() -> Path:
    return REPO_ROOT / "prompts"


def shared_data_dir() -> Path:
    """The read-only fixtures of other open-source projects (``../shared/data``)."""
    return Path(os.environ.get("REPAIRDESK_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def offline() -> None:
    """Make sure nothing tries to reach a model hub: everything ships in packages."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
