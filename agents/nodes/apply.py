"""apply: carry out the analyst's decision.

approve -> the proposal's changes; edit -> the analyst's changes (``old`` read from the payment);
reject -> nothing. With changes, the repaired message is written in the input's format and must
re-parse cleanly (status ``applied``), else status ``failed`` with the reason. Approving a proposal
without changes (escalate, request_info, ...) gives status ``approved``. Pure: writing a message has
no outside effect, so re-running this node after a crash is harmless.
"""

from __future__ import annotations

from typing import Any

from agents.repair import repaired_message
from agents.state import TriageState
from tools.errors import RepairDeskError
from tools.procedures.expressions import walk


def apply(state: TriageState) -> dict[str, Any]:
    decision = state["decision"]
    proposal = dict(state["proposal"])
    payment = state.get("payment") or {}
    result: dict[str, Any] = {"final_changes": [], "repaired_message": None, "decision": decision}
    if decision["decision"] == "reject":
        result["status"] = "rejected"
    else:
        if decision["decision"] == "edit":
            changes = [
                {
                    "field": c["field"],
                    "old": walk({"payment": payment}, c["field"].split(".")),
                    "new": c["new"],
                    "evidence": ["analyst"],
                }
                for c in decision["changes"]
            ]
        else:
            changes = list(proposal.get("changes") or [])
        if not changes:
            result["status"] = "approved"
        else:
            try:
                result["repaired_message"] = repaired_message(
                    payment, changes, state.get("message_format", "fin")
                )
                result["status"] = "applied"
                result["final_changes"] = changes
            except RepairDeskError as exc:
                result["status"] = "failed"
                result["error"] = str(exc)
                result["final_changes"] = changes
    proposal["status"] = result["status"]
    result["proposal"] = proposal
    return {"result": result, "proposal": proposal}
