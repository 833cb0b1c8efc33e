"""The decisions store: every reviewed case as a labelled example for the evaluation sets.

Contract: :func:`record_decision` appends one JSON line per record id to
``$REPAIRDESK_DATA_DIR/decisions/decisions.jsonl`` (``input``, ``proposal``, ``decision``,
``final_changes``, ``status``). It is idempotent: a record id already in the file is not written
again, so a node re-run after a crash never labels a case twice. A file lock keeps concurrent
writers' lines whole. :func:`read_decisions` reads them back.
"""

from __future__ import annotations

import fcntl
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.config import data_dir


def decisions_path() -> Path:
    folder = data_dir() / "decisions"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "decisions.jsonl"


def read_decisions(path: Path | None = None) -> list[dict[str, Any]]:
    target = path or decisions_path()
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines() if line.strip()]


def record_decision(record_id: str, entry: dict[str, Any], path: Path | None = None) -> bool:
    """Append ``entry`` under ``record_id``; returns False when that id was already recorded."""
    target = path or decisions_path()
    with target.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            for line in handle:
                if line.strip() and json.loads(line).get("id") == record_id:
                    return False
            row = {"id": record_id, "recorded_at": datetime.now(UTC).isoformat(), **entry}
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            handle.flush()
            return True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
