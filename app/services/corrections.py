"""Decisions into evaluation data: append new labelled cases to a corrections JSONL file.

The file lives under the data directory by default (``<REPAIRDESK_DATA_DIR>/datasets/corrections.jsonl``):
the service never writes into the source tree and never imports ``evals/``. Recording the file as a
dataset version in an evaluation manifest is the CLI's part (``repairdesk eval export-corrections``).

Each export is one dataset version (``corrections-v<N>``, N one more than the highest version in the
file); every appended line carries it. Rows are marked exported in the same transaction, after the
file is written and flushed, so a crash can duplicate a batch but never drop one; lines carry the
``decision_id`` so a reader can de-duplicate.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.models import LabelledCase

_VERSION = re.compile(r'"dataset_version":\s*"corrections-v(\d+)"')


def _last_version(path: Path) -> int:
    if not path.exists():
        return 0
    return max((int(m.group(1)) for m in _VERSION.finditer(path.read_text(encoding="utf-8"))), default=0)


def default_path(data_dir: Path) -> Path:
    """Where exports go unless told otherwise: under the data directory, never the source tree."""
    return data_dir / "datasets" / "corrections.jsonl"


def export_corrections(session: Session, target: Path) -> int:
    """Append not-yet-exported labelled cases to ``target``; returns how many lines were appended."""
    rows = list(
        session.scalars(
            select(LabelledCase).where(LabelledCase.exported_at.is_(None)).order_by(LabelledCase.id)
        )
    )
    if not rows:
        return 0
    version = f"corrections-v{_last_version(target) + 1}"
    exported_at = datetime.now(UTC)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as handle:
        for row in rows:
            line = {
                "id": f"{row.case_id}#{row.decision_id}",
                "expected": gold_label(row.record),
                "dataset_version": version,
                "source": "analyst_decision",
                "decision_id": row.decision_id,
                "exported_at": exported_at.isoformat(),
                **row.record,
            }
            handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    session.execute(
        update(LabelledCase).where(LabelledCase.id.in_([r.id for r in rows])).values(exported_at=exported_at)
    )
    session.commit()
    return len(rows)


def gold_label(record: dict[str, Any]) -> dict[str, Any] | None:
    """What the analyst decided, as an agent-suite ``expected``: approvals confirm the proposal, edits
    make the analyst's changes gold, rejections say only which action was wrong (no gold action)."""
    decision = str(record.get("decision") or record.get("outcome") or "")
    proposal = record.get("proposal") or {}
    if decision.startswith("approve"):
        return {"action": proposal.get("action"), "changes": _field_new(proposal.get("changes"))}
    if decision.startswith("edit"):
        return {"action": "repair", "changes": _field_new(record.get("changes"))}
    return {
        "rejected_action": proposal.get("action"),
        "rejected_changes": _field_new(proposal.get("changes")),
    }


def _field_new(changes: Any) -> list[dict[str, Any]]:
    return [{"field": c.get("field"), "new": c.get("new")} for c in changes or [] if isinstance(c, dict)]
