"""What the case page shows, assembled from the stored case (no HTTP, no templates here).

``case_page(session, services, case)`` returns the page's data: the payment's fields, each document
with its extracted fields and their highlight boxes (as fractions of the page), the findings, the
agent's tool calls, the proposed changes as before/after rows, the cited procedure sections with
their text, the decisions and the audit history. The proposal's parts are read through the agent
contract (:func:`proposal_of`): changes, citations, tool calls and the guard verdict are typed.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.contract import Change, Citation, Proposal
from app.db.models import Case, Document
from app.services import audit
from app.services.cases import PROPOSAL_KEYS, case_view
from app.services.document_store import DocumentStore
from app.services.edits import message_format
from app.services.pages import pages as page_list
from app.services.procedures import section_text
from app.ui.chardiff import char_diff
from app.ui.edit_form import currency_codes, edit_rows
from app.ui.evidence import resolve as resolve_evidence
from tools.errors import RepairDeskError


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Dotted paths and display values of a nested JSON value (lists indexed)."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            rows.extend(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            rows.append((prefix, " / ".join(str(v) for v in value)))
        else:
            for index, item in enumerate(value):
                rows.extend(flatten(item, f"{prefix}[{index}]"))
    elif value is not None:
        rows.append((prefix, str(value)))
    return rows


def _payment(case: Case) -> tuple[dict[str, Any] | None, list[dict[str, Any]], str | None]:
    """The payment (submitted, else parsed from the message), the message's findings, an error."""
    findings: list[dict[str, Any]] = []
    extraction = case.message_extraction or {}
    if isinstance(extraction.get("payment"), dict):  # the one parse the agent also reads (intake)
        return extraction["payment"], list(extraction.get("findings") or []), None
    payment = case.payload.get("payment")
    for item in extraction.get("extractions") or []:
        findings.extend(item.get("findings", []))
        if payment is None and item.get("payment"):
            payment = item["payment"]
    return payment, findings, extraction.get("error")


def _boxes(fields: list[dict[str, Any]], pages: list[Any]) -> dict[int, list[dict[str, Any]]]:
    by_page: dict[int, list[dict[str, Any]]] = {}
    sizes = {p.number: p for p in pages}
    for index, field in enumerate(fields):
        source = field.get("source") or {}
        bbox, page = source.get("bbox"), source.get("page")
        if not bbox or len(bbox) != 4 or not isinstance(page, int) or page not in sizes:
            continue
        info = sizes[page]
        x0, top, x1, bottom = (float(v) for v in bbox)
        by_page.setdefault(page, []).append(
            {
                "field_index": index,
                "name": field.get("name"),
                "value": field.get("value"),
                "left": max(0.0, 100 * x0 / info.width),
                "top": max(0.0, 100 * top / info.height),
                "width": max(0.4, 100 * (x1 - x0) / info.width),
                "height": max(0.4, 100 * (bottom - top) / info.height),
            }
        )
    return by_page


def _documents(
    session: Session, store: DocumentStore, cache_dir: Path, view: dict[str, Any]
) -> list[dict[str, Any]]:
    docs = []
    for ref in view.get("documents", []):
        row = session.get(Document, ref["sha256"])
        extractions = (row.extraction if row else None) or []
        fields = [f for e in extractions for f in e.get("fields", [])]
        pages: list[Any] = []
        render_error = None
        kind = row.kind if row else "unknown"
        if kind in {"pdf", "image"} and store.exists(ref["sha256"]):
            try:
                pages = page_list(cache_dir, ref["sha256"], partial(store.get, ref["sha256"]), ref["name"])
            except RepairDeskError as exc:  # shown in the page; the fields are still listed
                render_error = exc.reason
        boxes = _boxes(fields, pages)
        docs.append(
            {
                "name": ref["name"],
                "sha256": ref["sha256"],
                "kind": kind,
                "doc_types": [e.get("doc_type") for e in extractions],
                "fields": fields,
                "findings": [f for e in extractions for f in e.get("findings", [])],
                "error": (row.extraction_error if row else None) or render_error,
                "pages": [
                    {
                        "number": p.number,
                        "boxes": boxes.get(p.number, []),
                        "width": p.width,
                        "height": p.height,
                    }
                    for p in pages
                ],
                "highlighted": sum(len(b) for b in boxes.values()),
            }
        )
    return docs


def _shown(value: Any) -> str | None:
    """A change's value as text: list fields (address, remittance lines) one line after another."""
    if value is None:
        return None
    return " / ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def proposal_of(view: dict[str, Any]) -> Proposal | None:
    """The case view's proposal, typed (None while the case has none)."""
    if view.get("action") is None:
        return None
    return Proposal.model_validate({k: view[k] for k in PROPOSAL_KEYS if k in view})


def _diff(changes: list[Change], evidence: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for change in changes:
        old, new = change.old, change.new
        before, after = char_diff(_shown(old), _shown(new))
        refs = change.evidence
        rows.append(
            {
                "field": change.field,
                "old": old,
                "new": new,
                "old_runs": before,
                "new_runs": after,
                "evidence": refs,
                "records": [evidence[r] for part in refs for r in str(part).split("+") if r in evidence],
                "changed": old != new,
            }
        )
    return rows


def _citations(citations: list[Citation]) -> list[dict[str, Any]]:
    """Each cited section with its text rendered from the corpus, and the decision-table row of the
    rule applied (``row``). A citation the corpus cannot resolve keeps its stored text, escaped."""
    cited = []
    for citation in citations:
        doc_id, section, row = citation.doc_id, citation.section, citation.row
        found = section_text(doc_id, section, row=row)
        cited.append(
            {
                "doc_id": doc_id,
                "section": section,
                "row": row,
                "title": found.title if found else citation.title or "",
                "text": found.text if found else citation.text or "",
                "html": found.html if found else None,
                "row_html": found.row_html if found else None,
            }
        )
    return cited


def edit_basis(session: Session, case: Case) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The current proposal's changes and the payment, which the per-field edit form edits."""
    proposal = proposal_of(case_view(session, case))
    return [c.dump() for c in proposal.changes] if proposal else [], _payment(case)[0]


def case_page(session: Session, store: DocumentStore, cache_dir: Path, case: Case) -> dict[str, Any]:
    view = case_view(session, case)
    proposal = proposal_of(view)
    changes = proposal.changes if proposal else []
    calls = proposal.tool_calls if proposal else []
    payment, message_findings, message_error = _payment(case)
    documents = _documents(session, store, cache_dir, view)
    findings = [dict(f, source="message") for f in message_findings]
    for doc in documents:
        findings.extend(dict(f, source=doc["name"]) for f in doc["findings"])
    tool_calls = [
        call.dump() | {"args_json": json.dumps(call.args, ensure_ascii=False, sort_keys=True)}
        for call in calls
    ]
    events = [audit.event_to_json(e) for e in audit.case_events(session, case.id)]
    results = [c.result_ref for c in calls if c.result_ref]
    refs = [r for c in changes for r in c.evidence] + results
    # Its own connection: a failed read (no refdata tables yet) must not abort the session's
    # transaction on PostgreSQL.
    with session.get_bind().engine.connect() as connection:
        evidence = resolve_evidence(connection, refs)
    return {
        "case": view,
        "payment_rows": flatten(payment) if payment else [],
        "message_error": message_error,
        "documents": documents,
        "findings": findings,
        "tool_calls": tool_calls,
        "diff": _diff(changes, evidence),
        "evidence": evidence,
        "changes_json": json.dumps([c.dump() for c in changes], indent=2, ensure_ascii=False),
        "citations": _citations(proposal.citations if proposal else []),
        "events": events,
        "notes": case.payload.get("notes"),
        "guard": proposal.guard if proposal else None,
        "payment": payment,
        "edit_rows": edit_rows([c.dump() for c in changes], payment, results, message_format(case.payload)),
        "currency_codes": " ".join(currency_codes()),
    }


def document_kind(session: Session, case_id: str, sha256: str) -> str | None:
    """The stored kind of a document that belongs to ``case_id`` (``None`` otherwise)."""
    from app.db.models import CaseDocument

    row = session.execute(
        select(Document.kind)
        .join(CaseDocument, CaseDocument.sha256 == Document.sha256)
        .where(CaseDocument.case_id == case_id, Document.sha256 == sha256)
    ).first()
    return row[0] if row else None
