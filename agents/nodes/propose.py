"""propose: turn the plan into the contract's repair proposal (status ``pending_review``).

Adds what the analyst needs around the plan: the citations (first the decision-table row of the rule
applied, then the sections retrieval found), the tool calls, the classification,
the four-eyes flag (amount above the rule's ``four_eyes_above`` or the default threshold), any
investigation draft the tools produced, the calibrated ``confidence`` (:mod:`agents.confidence`) and
the ``versions`` that made it. The guard runs next and may still downgrade it.

The proposal is built as an :class:`agents.contract.Proposal` and leaves as its JSON. A plan the
contract refuses (an action outside the set, a value that is no text) is not shown as a repair: it
becomes an escalation whose guard names the error (``invalid_proposal``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from agents.confidence import calibrated, prompts_version
from agents.contract import Change, Draft, Guard, Proposal, Violation, error_text
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
    # `is None`, not `or`: a rule's threshold of 0 ("always four-eyes", policy `four_eyes.always`) holds.
    claimed = _amount(plan.get("four_eyes_above"))
    threshold = default_four_eyes_threshold() if claimed is None else claimed
    amount = _amount((state.get("payment") or {}).get("amount"))
    drafts = [
        Draft.model_validate({k: v for k, v in result.items() if k in ("kind", "text", "fields", "ref")})
        for result in (state.get("evidence") or {}).values()
        if isinstance(result, dict) and str(result.get("ref", "")).startswith("draft:")
    ]
    llm = plan.get("llm") or {}
    # Only what the plan has: an absent key stays absent from the contract JSON (Proposal.dump).
    optional: dict[str, Any] = {
        "drafts": drafts,
        "document_errors": state.get("document_errors"),
        "steps": plan.get("steps"),  # the tool loop step by step (agents/nodes/verify.py)
        "planner": llm,
        "fallback": llm.get("fallback"),
    }
    classification = float(state.get("classification_confidence", 0.0) or 0.0)
    try:
        proposal = _proposal(state, plan, optional, classification, amount, threshold)
    except ValidationError as exc:  # a plan outside the contract is never shown as a repair
        proposal = _refused(state, plan, error_text(exc))
    # The hand-typed product stands only where no calibrator is deployed or committed.
    confidence, calibration = calibrated(state, proposal.dump(), fallback=proposal.confidence or 0.0)
    update: dict[str, Any] = {"confidence": confidence, "versions": versions(state, calibration["version"])}
    if "shadow" in calibration:
        update["shadow"] = {"calibrator": calibration["shadow"]}
    return {"proposal": proposal.revised(**update).dump(), "calibration": calibration}


def _proposal(
    state: TriageState,
    plan: dict[str, Any],
    optional: dict[str, Any],
    classification: float,
    amount: Decimal | None,
    threshold: Decimal,
) -> Proposal:
    return Proposal(
        case_id=state["case"].get("case_id"),
        status="pending_review",
        exception_code=state.get("exception_code"),
        classification_confidence=state.get("classification_confidence", 0.0),
        action=plan["action"],
        changes=[Change.model_validate(_change(c)) for c in plan["changes"]],
        rationale=plan.get("rationale", ""),
        citations=_citations(plan.get("citation"), state.get("citations") or []),
        tool_calls=state.get("tool_calls") or [],
        confidence=round(float(plan.get("confidence", 0.5)) * classification, 2),
        model=plan.get("model", "playbook"),
        procedure=(state.get("procedure") or {}).get("doc_id"),
        four_eyes=bool(amount is not None and amount > threshold),
        four_eyes_above=str(threshold),
        classified_from=state.get("classified_from") or [],
        **{k: v for k, v in optional.items() if v},
    )


def _refused(state: TriageState, plan: dict[str, Any], error: str) -> Proposal:
    """The escalation that stands in for a plan the contract refuses (e.g. an LLM's malformed output)."""
    violation = Violation(
        code="invalid_proposal", message=f"the plan does not fit the proposal contract: {error}"
    )
    return Proposal(
        case_id=state["case"].get("case_id"),
        exception_code=state.get("exception_code"),
        classification_confidence=state.get("classification_confidence", 0.0),
        action="escalate",
        rationale=str(plan.get("rationale") or ""),  # the guard says why it escalated, then this
        tool_calls=state.get("tool_calls") or [],
        confidence=0.0,
        guard=Guard(passed=False, violations=[violation], original_action=str(plan.get("action"))),
        model=str(plan.get("model") or "playbook"),
        procedure=(state.get("procedure") or {}).get("doc_id"),
        classified_from=state.get("classified_from") or [],
    )


def _change(change: dict[str, Any]) -> dict[str, Any]:
    """A planned change's contract keys (the executor's ``trusted_path`` note goes to the guard)."""
    keys = {k: change.get(k) for k in ("field", "old", "new")} | {"evidence": change.get("evidence") or []}
    if change.get("trusted_path") is not None:
        keys["trusted_path"] = change["trusted_path"]
    return keys
