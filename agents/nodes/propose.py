"""propose: turn the plan into the contract's repair proposal (status ``pending_review``).

Adds what the analyst needs around the plan: the citations (first the decision-table row of the rule
applied, then the sections retrieval found), the tool calls, the classification,
the four-eyes flag (amount above the rule's ``four_eyes_above`` or the default threshold), any
investigation draft the tools produced, the calibrated ``confidence`` (:mod:`agents.confidence`) and
the ``versions`` that made it. The guard runs next and may still downgrade it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from agents.confidence import calibrated, prompts_version
from agents.guard import default_four_eyes_threshold
from agents.state import TriageState


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _citations(applied: dict[str, Any] | None, retrieved: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rule applied (its decision-table row) first, then the retrieved sections not already cited."""
    if not applied:
        return list(retrieved)
    cited = [applied]
    for citation in retrieved:
        if (citation.get("doc_id"), citation.get("section")) != (applied["doc_id"], applied["section"]):
            cited.append(citation)
    return cited


def versions(state: TriageState, calibrator: str) -> dict[str, str]:
    """What made the proposal (contract ``versions``): model, prompts, procedure, index, calibrator."""
    from tools.retrieval.active_model import active_model_name

    procedure = state.get("procedure") or {}
    return {
        "model": str((state.get("plan") or {}).get("model") or state.get("model") or "playbook"),
        "prompt": prompts_version(),
        "procedures": "@".join(p for p in (procedure.get("doc_id"), procedure.get("version")) if p) or "none",
        "index": active_model_name(),
        "calibrator": calibrator,
    }


def propose(state: TriageState) -> dict[str, Any]:
    plan = state["plan"]
    case = state["case"]
    # `is None`, not `or`: a rule's threshold of 0 ("always four-eyes", policy `four_eyes.always`) holds.
    claimed = _amount(plan.get("four_eyes_above"))
    threshold = default_four_eyes_threshold() if claimed is None else claimed
    amount = _amount((state.get("payment") or {}).get("amount"))
    drafts = [
        {k: v for k, v in result.items() if k in ("kind", "text", "fields", "ref")}
        for result in (state.get("evidence") or {}).values()
        if isinstance(result, dict) and str(result.get("ref", "")).startswith("draft:")
    ]
    proposal: dict[str, Any] = {
        "case_id": case.get("case_id"),
        "status": "pending_review",
        "exception_code": state.get("exception_code"),
        "classification_confidence": state.get("classification_confidence", 0.0),
        "action": plan["action"],
        "changes": [
            {k: c.get(k) for k in ("field", "old", "new", "evidence", "trusted_path")}
            for c in plan["changes"]
        ],
        "rationale": plan.get("rationale", ""),
        "citations": _citations(plan.get("citation"), state.get("citations") or []),
        "tool_calls": state.get("tool_calls") or [],
        "confidence": round(
            float(plan.get("confidence", 0.5)) * float(state.get("classification_confidence", 0.0) or 0.0), 2
        ),
        "guard": {"passed": True, "violations": []},
        "model": plan.get("model", "playbook"),
        "procedure": (state.get("procedure") or {}).get("doc_id"),
        "four_eyes": bool(amount is not None and amount > threshold),
        "four_eyes_above": str(threshold),
        "classified_from": state.get("classified_from") or [],
    }
    # The hand-typed product stands only where no calibrator is deployed or committed.
    proposal["confidence"], calibration = calibrated(state, proposal, fallback=proposal["confidence"])
    proposal["versions"] = versions(state, calibration["version"])
    if "shadow" in calibration:
        proposal["shadow"] = {"calibrator": calibration["shadow"]}
    if drafts:
        proposal["drafts"] = drafts
    if state.get("document_errors"):
        proposal["document_errors"] = state["document_errors"]
    if plan.get("llm"):
        proposal["planner"] = plan["llm"]
        if plan["llm"].get("fallback"):
            proposal["fallback"] = plan["llm"]["fallback"]
    return {"proposal": proposal, "calibration": calibration}
