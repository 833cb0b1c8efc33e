"""The typed configuration that ``tools/`` and ``agents/`` run with (no environment reads here).

:class:`app.settings.Settings` is the one place that reads the environment (every variable is in
docs/configuration.md); it builds a :class:`ToolConfig` and installs it with :func:`configure` when a
process starts (``repairdesk`` CLI, the service, a worker). ``tools/`` and ``agents/`` never import
``app/``, so they ask :func:`current` instead. A process that configures nothing (a library user, a
unit test) runs on the defaults below; tests that need other values build their own ``ToolConfig``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from tools.clock import Clock, SystemClock

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DocumentLimits:
    """Limits that keep a bad document from hanging or exhausting the service (why each value:
    tools/documents/limits.py and docs/hostile-inputs.md)."""

    max_pages: int = 50
    max_page_side_pt: int = 4000  # A0 is 3370 pt; a far larger page only exists to exhaust a renderer
    # 40 megapixels: an A4 scan at 600 dpi is 35 MP; larger is a decompression bomb or a poster.
    max_image_pixels: int = 40_000_000
    max_render_pixels: int = 40_000_000  # a page rendered for OCR or the UI is scaled down below this
    max_page_content_bytes: int = 4 * 1024 * 1024  # decompressed content stream of one page
    max_content_bytes: int = 32 * 1024 * 1024
    max_page_chars: int = 60_000
    max_document_chars: int = 500_000
    max_words: int = 100_000
    doc_timeout_s: int = 25  # one document's whole extraction in the sandbox process
    doc_memory_mb: int = 1024  # the sandbox process's address-space limit
    workers: int = 2  # sandbox processes at once per service process
    ocr_timeout_s: int = 20  # per page
    ocr_languages: str = "eng+deu+fra+nld+spa"


@dataclass(frozen=True)
class ToolConfig:
    data_dir: Path = Path("var")
    corpora_dir: Path = REPO_ROOT / "corpora"
    shared_data_dir: Path = REPO_ROOT.parent / "shared" / "data"
    # The database named explicitly (DATABASE_URL or DATABASE_SECRET); "" means the SQLite file
    # in the data directory (see :func:`database_url`).
    explicit_database_url: str = ""
    model: str = "playbook"
    # Proposals whose amount is above this (in the payment's currency) need a second approver;
    # None: the four-eyes policy's default_above (corpora/policies.yaml).
    four_eyes_above: Decimal | None = None
    openai_base_url: str | None = None
    mlflow_tracking_uri: str | None = None  # None: the SQLite store under the data directory
    openai_api_key: str | None = field(default=None, repr=False)
    llama_threads: int | None = None  # None: half the cores
    documents: DocumentLimits = field(default_factory=DocumentLimits)
    clock: Clock = field(default_factory=SystemClock)


_lock = threading.Lock()
_current: ToolConfig | None = None


def configure(config: ToolConfig) -> ToolConfig:
    """Install ``config`` for this process (start-up code and tests); returns the one it replaced."""
    global _current
    with _lock:
        previous = current()
        _current = config
        return previous


def current() -> ToolConfig:
    return _current if _current is not None else _DEFAULT


_DEFAULT = ToolConfig()


@contextmanager
def override(**changes: Any) -> Iterator[ToolConfig]:
    """Run a block with some values changed (an evaluation's fixed clock, a test's folders)."""
    changed = replace(current(), **changes)
    previous = configure(changed)
    try:
        yield changed
    finally:
        configure(previous)


def data_dir() -> Path:
    """The data directory (SQLite file, index, documents, checkpoints), created when missing."""
    path = current().data_dir.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """The configured database; else the SQLite file in the data directory."""
    return current().explicit_database_url or f"sqlite:///{data_dir() / 'repairdesk.db'}"


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
    return current().corpora_dir


def prompts_dir() -> Path:
    return REPO_ROOT / "prompts"


def shared_data_dir() -> Path:
    """The read-only fixtures of other open-source projects (``../shared/data``)."""
    return current().shared_data_dir


# Switches of third-party libraries (not RepairDesk settings): no model hub, no telemetry.
OFFLINE_SWITCHES = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "RAGAS_DO_NOT_TRACK": "true"}


def offline() -> None:
    """Make sure nothing tries to reach a model hub: everything ships in packages."""
    for name, value in OFFLINE_SWITCHES.items():
        os.environ.setdefault(name, value)
