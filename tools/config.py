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
    """``DATABASE_URL``; else a URL built from ``DATABASE_SECRET`` (the JSON that AWS Secrets Manager
    injects for RDS); else the SQLite file in the data directory."""
    return (
        os.environ.get("DATABASE_URL")
        or url_from_secret(os.environ.get("DATABASE_SECRET"))
        or f"sqlite:///{data_dir() / 'repairdesk.db'}"
    )


def url_from_secret(secret: str | None) -> str | None:
    """``postgresql://user:password@host:port/dbname`` from an RDS secret's JSON, or None."""
    if not secret:
        return None
    import json
    from urllib.parse import quote

    try:
        fields = json.loads(secret)
        user, password, host = fields["username"], fields["password"], fields["host"]
    except (ValueError, KeyError, TypeError):
        return None
    port = fields.get("port", 5432)
    name = fields.get("dbname", "postgres")
    return f"postgresql://{quote(str(user), safe='')}:{quote(str(password), safe='')}@{host}:{port}/{name}"


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
