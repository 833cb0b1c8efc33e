"""Document field corrections that teach a layout, and the learned rules' life cycle.

``POST /v1/documents/{document_id}/corrections`` stores one :class:`~tools.documents.learned.LayoutRule`
(the box the analyst selected, its label anchor and the issuer's fingerprint) and re-extracts the
document with it; ``GET /v1/layout-rules`` lists the active rules; ``DELETE /v1/layout-rules/{id}``
removes one (the row stays, marked deleted, so the audit trail can still name it). Every change is an
audit event, on each case that holds the document, or on no case when the document belongs to none.
The ``document_corrected`` event carries the value the field had before (``old``) next to the
corrected one: :mod:`app.services.corrections` turns it into a field-level label in the case's
decision record.

:func:`install_provider` makes the database the source of the extractor's learned rules in this
process; rules are re-read at most every :data:`CACHE_SECONDS` and at once after a change here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import CaseDocument, Document, LayoutRuleRow
from app.db.session import Database
from app.services.audit import append_event
from app.services.document_store import DocumentStore
from tools.documents import learned, teaching
from tools.errors import NotFoundError, ValidationError

CACHE_SECONDS = 2.0
log = logging.getLogger("repairdesk.layout_rules")


class CorrectionIn(BaseModel):
    field: str = Field(examples=["remittance.total_amount"])
    value: str = Field(min_length=1, max_length=200, examples=["4.11"])
    page: int = Field(ge=1, examples=[1])
    bbox: list[float] = Field(min_length=4, max_length=4, examples=[[412.0, 520.3, 470.1, 531.0]])


def rule_view(row: LayoutRuleRow) -> dict[str, Any]:
    rule = row.rule
    return {
        "id": row.id,
        "issuer": row.issuer,
        "field": row.field,
        "page": rule.get("page"),
        "bbox": rule.get("bbox"),
        "anchor": (rule.get("anchor") or {}).get("text"),
        "document_id": row.document_id,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


def _validate_value(field: str, value: str) -> None:
    """The typed value must be a valid value of the field (an IBAN's checksum, a date, an amount)."""
    from tools.documents.document import Document as ReadDocument
    from tools.documents.document import Hit
    from tools.documents.fields import VALIDATORS

    name = learned.FIELDS.get(field)
    if name is None:
        raise ValidationError(f"cannot correct {field!r}; one of {', '.join(learned.FIELDS)}", source="field")
    if VALIDATORS[name](ReadDocument([], "correction"), Hit(value, [])) is None:
        raise ValidationError(f"{value!r} is not a valid {field}", source="value")


def _current_value(extraction: list[Any] | None, field: str) -> str | None:
    """The value ``field`` (``remittance.total_amount``) has in a stored extraction, before a
    correction replaces it: the "old" half of the field-level label the correction becomes."""
    if not extraction or not isinstance(extraction[0], dict):
        return None
    current: Any = extraction[0]
    for part in field.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return None if current is None else str(current)


def _case_ids(session: Session, document_id: str) -> list[str | None]:
    ids = sorted(set(session.scalars(select(CaseDocument.case_id).where(CaseDocument.sha256 == document_id))))
    return list(ids) or [None]


def teach(
    session: Session, store: DocumentStore, document_id: str, body: CorrectionIn, *, user: str
) -> dict[str, Any]:
    from tools.documents.service import read_pages
    from tools.extract import extract_bytes

    _validate_value(body.field, body.value)
    document = session.get(Document, document_id)
    if document is None:
        raise NotFoundError("no such document", source=f"document {document_id}")
    link = session.scalar(select(CaseDocument).where(CaseDocument.sha256 == document_id).limit(1))
    name = link.name if link is not None else document_id
    data = store.get(document_id)
    if document.extraction is None:  # not read yet (the case is still queued): read it as it stands
        document.extraction = [e.to_json_dict() for e in extract_bytes(data, name)]
    old = _current_value(document.extraction, body.field)
    pages = read_pages(data, name)
    rule = teaching.teach(
        pages, name, field=body.field, page=body.page, bbox=body.bbox, value=body.value, taught_by=user
    )
    issuer = rule.issuer.name or (rule.issuer.ibans[0] if rule.issuer.ibans else None)
    row = LayoutRuleRow(
        document_id=document_id,
        field=body.field,
        issuer=issuer[:255] if issuer else None,
        rule=rule.model_dump(mode="json"),
        created_by=user,
    )
    session.add(row)
    session.flush()
    for case_id in _case_ids(session, document_id):
        append_event(
            session,
            event="document_corrected",
            actor=user,
            case_id=case_id,
            data={"document_id": document_id, "document": name, "rule_id": row.id, "old": old}
            | body.model_dump(mode="json"),
        )
    session.commit()
    invalidate()
    # The document itself is read again with what it taught (the cached extraction is replaced).
    document.extraction = [e.to_json_dict() for e in extract_bytes(data, name)]
    document.extraction_error = None
    session.commit()
    return {"rule": rule_view(row), "extraction": document.extraction}


def list_rules(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(LayoutRuleRow).where(LayoutRuleRow.deleted_at.is_(None)).order_by(LayoutRuleRow.id)
    )
    return [rule_view(row) for row in rows]


def delete_rule(session: Session, rule_id: int, *, user: str) -> dict[str, Any]:
    row = session.get(LayoutRuleRow, rule_id)
    if row is None or row.deleted_at is not None:
        raise NotFoundError("no such layout rule", source=f"layout rule {rule_id}")
    row.deleted_at = datetime.now(UTC)
    row.deleted_by = user
    for case_id in _case_ids(session, row.document_id):
        append_event(
            session,
            event="layout_rule_removed",
            actor=user,
            case_id=case_id,
            data={"rule_id": row.id, "field": row.field, "document_id": row.document_id},
        )
    session.commit()
    invalidate()
    return rule_view(row) | {"deleted_by": user, "deleted_at": row.deleted_at.isoformat()}


_lock = threading.Lock()
_cache: dict[str, tuple[float, list[learned.LayoutRule]]] = {}


def invalidate() -> None:
    with _lock:
        _cache.clear()


def _load(db: Database) -> list[learned.LayoutRule]:
    with db.session() as session:
        rows = session.scalars(select(LayoutRuleRow).where(LayoutRuleRow.deleted_at.is_(None)))
        rules = []
        for row in rows:
            rule = learned.LayoutRule.model_validate(row.rule)
            rule.id = row.id
            rules.append(rule)
        return rules


def install_provider(db: Database) -> None:
    """Learned rules for this process's extractions come from ``db``."""

    def provider() -> Sequence[learned.LayoutRule]:
        now = time.monotonic()
        with _lock:
            cached = _cache.get(db.url)
            if cached is not None and now - cached[0] < CACHE_SECONDS:
                return cached[1]
        try:
            rules = _load(db)
        except Exception as exc:
            log.warning("learned layout rules unavailable, extracting without them: %s", type(exc).__name__)
            rules = []
        with _lock:
            _cache[db.url] = (now, rules)
        return rules

    learned.set_provider(provider)
