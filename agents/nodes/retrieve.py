"""retrieve: the procedure that claims the exception code, and the sections to cite.

Routing for a known code is code, not search: the procedure whose front matter lists the code (the
one whose ``message_types`` include the payment's type when several do). Procedure search, filtered
by the code, supplies the sections cited as background; without a search index the procedure's
numbered "Procedure" section is. The rule applied is cited by ``propose`` (its decision-table row),
ahead of these.
"""

from __future__ import annotations

import logging
from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.nodes.common import toolbox_of
from agents.state import TriageState
from tools.procedures import Procedure

log = logging.getLogger(__name__)


def _message_type_names(payment: dict[str, Any] | None) -> set[str]:
    kind = str((payment or {}).get("message_type") or "")
    return {kind, f"MT{kind}", kind.lower(), f"mt{kind}"} if kind else set()


def pick_procedure(candidates: list[Procedure], payment: dict[str, Any] | None) -> Procedure | None:
    names = _message_type_names(payment)
    for procedure in candidates:
        if names.intersection(procedure.message_types):
            return procedure
    return candidates[0] if candidates else None


def _citations(toolbox: Any, procedure: Procedure, code: str, query: str) -> list[dict[str, Any]]:
    citations: list[dict[str, Any]] = []
    if toolbox.search is not None:
        try:
            hits = toolbox.search_procedures(query, code=code, k=8)
        except Exception as exc:  # search is an aid to citing; routing does not depend on it
            log.warning("procedure search failed: %s", exc)
            hits = []
        for hit in hits:
            if getattr(hit, "doc_id", None) == procedure.doc_id:
                entry = {"doc_id": hit.doc_id, "section": str(hit.section)}
                if entry not in citations:
                    citations.append(entry)
            if len(citations) == 2:
                break
    if not citations:
        section = next((s.id for s in procedure.sections if "procedure" in s.heading.lower()), None)
        citations.append({"doc_id": procedure.doc_id, "section": section or "1"})
    return citations


def retrieve(state: TriageState, runtime: Runtime[Context]) -> dict[str, Any]:
    toolbox = toolbox_of(runtime)
    code = state["exception_code"]
    procedure = pick_procedure(toolbox.claiming(code), state.get("payment"))
    if procedure is None:
        return {"procedure": None, "citations": []}
    # The query names the code and the procedure only, so its hits can be reused across cases.
    query = f"{code} {procedure.title}"
    return {
        "procedure": {"doc_id": procedure.doc_id, "title": procedure.title, "version": procedure.version},
        "citations": _citations(toolbox, procedure, code, query),
    }
