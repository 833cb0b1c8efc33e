"""Decisions into evaluation data: one decision record per case, derived from the database only.

The record of a case is read from the service's own tables (``cases``, ``proposals``, ``decisions``):
the agent's proposal as made (with the versions that made it, where the proposal names them), every
edit (who, when, what, the edit's guard verdict), every decision with its structured reason
(``reason_code``, ``correct_action``), the changes actually applied and the outcome.

Document field corrections (issue 14) are labels too, at field level: each one an analyst taught on a
case's document (document, field, old value, corrected value, who, when) is in the record's
``document_corrections``, and a case with such corrections is exported even before it is decided
(its ``label`` is then None; the corrections suite replays only decided cases).

Gold labels derive from the final *applied* outcome only (issue 13): one label per case, the last
applied approve/reject wins; an edit nobody approved is part of the record but never a label, and an
approval's gold changes are the ones the graph applied (``cases.final_changes``), not the agent's
proposal it may have overridden. A rejection's gold action is the analyst's ``correct_action``.
A case the system applied straight-through (``system:stp``) has a label only once a person's QA
verdict exists: agreement keeps the approval, disagreement is a rejection with their correct action.

:func:`export_dataset` writes every labelled case as one immutable dataset version
``<root>/v<N>/{corrections.jsonl,manifest.json}`` (content hash, counts, date range, versions); the
root is under the data directory unless the caller names another (never the source tree). An export
whose content equals the latest version writes nothing new.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, Case, CaseDocument, Decision, LabelledCase, Proposal

DATASET = "corrections"
SCHEMA_VERSION = 1
FINAL_DECISIONS = ("approve", "reject")
# Case statuses that are a final applied outcome; a failed application is no label.
LABELLED_STATUSES = {"approve": {"applied", "approved"}, "reject": {"rejected"}}
_VERSION_DIR = re.compile(r"^v(\d+)$")
SYSTEM_PREFIX = "system:"  # decisions by the system (straight-through) are not human labels
QA_DECISION = "qa"  # a person's QA verdict on a straight-through case (app.services.stp_apply)


def default_root(data_dir: Path) -> Path:
    """Where exports go unless told otherwise: under the data directory, never the source tree."""
    return data_dir / "datasets" / DATASET


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _field_new(changes: Any) -> list[dict[str, Any]]:
    return [{"field": c.get("field"), "new": c.get("new")} for c in changes or [] if isinstance(c, dict)]


def _case_input(session: Session, case: Case) -> dict[str, Any]:
    """The case as submitted; the last labelled snapshot carries the documents' bytes for replay."""
    snapshot = session.scalar(
        select(LabelledCase).where(LabelledCase.case_id == case.id).order_by(LabelledCase.id.desc()).limit(1)
    )
    if snapshot is not None and isinstance(snapshot.record.get("case"), dict):
        return dict(snapshot.record["case"])
    return dict(case.payload)


def document_corrections(session: Session, case_id: str) -> list[dict[str, Any]]:
    """The field-level labels of the case's documents: each correction an analyst taught
    (``POST /v1/documents/{id}/corrections``), with the value it replaced, who and when, and
    whether its layout rule was removed since. Read from the case's audit events, in order."""
    events = list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.case_id == case_id,
                AuditEvent.event.in_(("document_corrected", "layout_rule_removed")),
            )
            .order_by(AuditEvent.seq)
        )
    )
    removed = {e.data.get("rule_id") for e in events if e.event == "layout_rule_removed"}
    names = {
        link.sha256: link.name
        for link in session.scalars(select(CaseDocument).where(CaseDocument.case_id == case_id))
    }
    labels = []
    for event in events:
        if event.event != "document_corrected":
            continue
        data = event.data
        labels.append(
            {
                "document_id": data.get("document_id"),
                "document": data.get("document") or names.get(str(data.get("document_id"))),
                "field": data.get("field"),
                "old": data.get("old"),
                "new": data.get("value"),
                "page": data.get("page"),
                "bbox": data.get("bbox"),
                "user": event.actor,
                "at": event.created_at,
                "rule_id": data.get("rule_id"),
                "rule_removed": data.get("rule_id") in removed,
            }
        )
    return labels


def decision_record(session: Session, case: Case) -> dict[str, Any]:
    """Everything decided about ``case``, and its gold label (``None`` unless finally decided)."""
    proposals = list(
        session.scalars(select(Proposal).where(Proposal.case_id == case.id).order_by(Proposal.version))
    )
    decisions = list(
        session.scalars(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id))
    )
    agent = next((p for p in reversed(proposals) if p.source == "agent"), None)
    by_version = {p.version: p for p in proposals}
    edit_decisions = [d for d in decisions if d.decision == "edit"]
    edits = []
    for proposal in (p for p in proposals if p.source == "edit"):
        made_by = next((d for d in edit_decisions if d.proposal_version == proposal.version - 1), None)
        edits.append(
            {
                "user": proposal.author,
                "at": _iso(proposal.created_at),
                "proposal_version": proposal.version,
                "changes": proposal.payload.get("changes", []),
                "guard": proposal.payload.get("guard"),
                "comment": made_by.comment if made_by else "",
            }
        )
    history = [
        {
            "decision": d.decision,
            "user": d.user,
            "at": _iso(d.created_at),
            "state": d.state,
            "proposal_version": d.proposal_version,
            "reason_code": d.reason_code,
            "correct_action": d.correct_action,
            "comment": d.comment,
        }
        for d in decisions
    ]
    final = next(
        (d for d in reversed(decisions) if d.decision in FINAL_DECISIONS and d.state == "applied"), None
    )
    decided = by_version.get(final.proposal_version or 0) if final else None
    decided = decided or (proposals[-1] if proposals else None)
    record: dict[str, Any] = {
        "case_id": case.id,
        "exception_code": case.exception_code,
        "case": _case_input(session, case),
        "proposal": (
            {
                "version": agent.version,
                "payload": agent.payload,
                "versions": agent.payload.get("versions") or {"model": agent.payload.get("model")},
                "model_usage": agent.model_usage,
                "at": _iso(agent.created_at),
            }
            if agent
            else None
        ),
        "edits": edits,
        "decisions": history,
        "final": history[decisions.index(final)] if final else None,
        "applied_changes": list(case.final_changes or []),
        "outcome": {"status": case.status, "error": case.error},
        "document_corrections": document_corrections(session, case.id),
    }
    record["label"] = _label(final, decided, case) if final else None
    if final is not None and final.user.startswith(SYSTEM_PREFIX):
        record["label"] = _qa_label(decisions, record["label"], decided)
    return record


def _qa_label(
    decisions: list[Decision], applied: dict[str, Any] | None, decided: Proposal | None
) -> dict[str, Any] | None:
    """The label of a case the system applied (straight-through): only a person's QA verdict makes one.

    Agreement keeps the applied approval as the label; a disagreement is a rejection of what was
    applied, with the QA reviewer's correct action. Without QA there is no label: the system's own
    decision is never gold."""
    qa = next((d for d in reversed(decisions) if d.decision == QA_DECISION), None)
    if qa is None or applied is None:
        return None
    if qa.correct_action is None:
        return applied | {"qa": True}
    payload = decided.payload if decided else {}
    return {
        "decision": "reject",
        "action": qa.correct_action,
        "changes": [],
        "reason_code": qa.reason_code,
        "rejected_action": payload.get("action"),
        "rejected_changes": _field_new(payload.get("changes")),
        "qa": True,
    }


def _label(final: Decision, decided: Proposal | None, case: Case) -> dict[str, Any] | None:
    if case.status not in LABELLED_STATUSES[final.decision]:
        return None  # the decision did not end in an applied outcome (e.g. applying it failed)
    payload = decided.payload if decided else {}
    if final.decision == "approve":
        return {
            "decision": "approve",
            "action": payload.get("action"),
            "changes": _field_new(case.final_changes),
            "edited": bool(decided and decided.source == "edit"),
        }
    return {
        "decision": "reject",
        "action": final.correct_action,
        "changes": [],
        "reason_code": final.reason_code,
        "rejected_action": payload.get("action"),
        "rejected_changes": _field_new(payload.get("changes")),
    }


def labelled_records(session: Session) -> list[dict[str, Any]]:
    """One record per case that holds a label, ordered by case id (stable content for hashing): a
    finally decided case (its gold ``label``), or a case whose documents an analyst corrected (its
    field-level ``document_corrections``; ``label`` stays None until the case is decided)."""
    decided = session.scalars(
        select(Decision.case_id)
        .where(Decision.decision.in_(FINAL_DECISIONS), Decision.state == "applied")
        .distinct()
    ).all()
    corrected = session.scalars(
        select(AuditEvent.case_id)
        .where(AuditEvent.event == "document_corrected", AuditEvent.case_id.is_not(None))
        .distinct()
    ).all()
    records = []
    for case_id in sorted({c for c in (*decided, *corrected) if c is not None}):
        case = session.scalar(select(Case).where(Case.id == case_id))
        if case is None:
            continue
        record = decision_record(session, case)
        if record["label"] is not None or record["document_corrections"]:
            records.append(record)
    return records


@dataclass(frozen=True)
class Export:
    """One dataset version: its folder, version number, rows, and whether this call wrote it."""

    path: Path
    version: int
    count: int
    sha256: str
    created: bool


def _versions(root: Path) -> list[int]:
    if not root.is_dir():
        return []
    return sorted(int(m.group(1)) for p in root.iterdir() if (m := _VERSION_DIR.match(p.name)))


def latest(root: Path) -> Path | None:
    """The newest dataset version folder under ``root`` (``None`` when nothing was exported)."""
    found = _versions(root)
    return root / f"v{found[-1]}" if found else None


def _manifest(records: list[dict[str, Any]], digest: str, version: int) -> dict[str, Any]:
    times = [r["final"]["at"] for r in records if r.get("final") and r["final"].get("at")]
    versions: dict[str, set[str]] = {}
    for record in records:
        for key, value in ((record.get("proposal") or {}).get("versions") or {}).items():
            if value:
                versions.setdefault(key, set()).add(str(value))
    return {
        "name": DATASET,
        "version": version,
        "schema": SCHEMA_VERSION,
        "file": f"{DATASET}.jsonl",
        "sha256": digest,
        "count": len(records),
        "counts": {
            "decision": dict(Counter(r["label"]["decision"] for r in records if r["label"])),
            "exception_code": dict(Counter(r["exception_code"] for r in records)),
            "edited": sum(1 for r in records if r["edits"]),
            "field_labels": sum(len(r.get("document_corrections") or []) for r in records),
        },
        "date_range": {"first": min(times, default=None), "last": max(times, default=None)},
        "versions": {key: sorted(values) for key, values in sorted(versions.items())},
        "created_at": datetime.now(UTC).isoformat(),
        "origin": "analyst-decisions",
    }


def export_dataset(session: Session, root: Path) -> Export:
    """Write the labelled cases as a new dataset version under ``root`` unless unchanged since the last."""
    records = labelled_records(session)
    body = "".join(
        json.dumps(r, ensure_ascii=False, sort_keys=True, default=str) + "\n" for r in records
    ).encode()
    digest = hashlib.sha256(body).hexdigest()
    previous = latest(root)
    if previous is not None:
        manifest = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("sha256") == digest:
            return Export(previous, int(manifest["version"]), int(manifest["count"]), digest, False)
    version = (_versions(root) or [0])[-1] + 1
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=root))
    try:
        (staging / f"{DATASET}.jsonl").write_bytes(body)
        manifest_text = json.dumps(_manifest(records, digest, version), indent=2, sort_keys=True)
        (staging / "manifest.json").write_text(manifest_text + "\n", encoding="utf-8")
        for name in (f"{DATASET}.jsonl", "manifest.json"):
            with (staging / name).open("rb") as handle:
                os.fsync(handle.fileno())
        os.rename(staging, root / f"v{version}")  # a version appears whole or not at all
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return Export(root / f"v{version}", version, len(records), digest, True)
