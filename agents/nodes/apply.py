"""apply: carry out the analyst's decision.

approve -> the proposal's changes; edit -> the analyst's changes (``old`` read from the payment);
reject -> nothing. With changes, the repaired message is written in the input's format and must
re-parse cleanly (status ``applied``), else status ``failed`` with the reason. Approving a proposal
without changes (escalate, request_info, ...) gives status ``approved``. Pure: writing a message has
no outside effect, so re-running this node after a crash is harmless. The proposal and the decision
are read as :mod:`agents.contract` models; the state keeps their JSON.
"""

from __future__ import annotations

from typing import Any

from agents.contract import Change, Decision, Proposal
from agents.repair import repaired_message
from agents.state import TriageState
from tools.errors import RepairDeskError
from tools.procedures.expressions import walk


def apply(state: TriageState) -> dict[str, Any]:
    decision = Decision.model_validate(state["decision"])
    proposal = Proposal.model_validate(state["proposal"])
    payment = state.get("payment") or {}
    result: dict[str, Any] = {"final_changes": [], "repaired_message": None, "decision": state["decision"]}
    if decision.decision == "reject":
        result["status"] = "rejected"
    else:
        if decision.decision == "edit":
            changes = [
                Change(
                    field=c.field,
                    old=walk({"payment": payment}, c.field.split(".")),
                    new=c.new,
                    evidence=["analyst"],
                )
                for c in decision.changes
            ]
        else:
            changes = proposal.changes
        written = [c.dump() for c in changes]
        if not changes:
            result["status"] = "approved"
        else:
            try:
                result["repaired_message"] = repaired_message(
                    payment, written, state.get("message_format", "fin")
                )
                result["status"] = "applied"
                result["final_changes"] = written
            except RepairDeskError as exc:
                result["status"] = "failed"
                result["error"] = str(exc)
                result["final_changes"] = written
    reviewed = proposal.revised(status=result["status"]).dump()
    result["proposal"] = reviewed
    return {"result": result, "proposal": reviewed}
