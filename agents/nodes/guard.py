"""guard: check the proposal (see :mod:`agents.guard`) and downgrade it when it breaks a rule."""

from __future__ import annotations

from typing import Any

from agents.confidence import calibrated
from agents.guard import check, enforce
from agents.state import TriageState


def guard(state: TriageState) -> dict[str, Any]:
    proposal = state["proposal"]
    case = dict(state["case"])
    case["exception_code"] = state.get("exception_code")
    violations = check(
        proposal,
        case=case,
        payment=state.get("payment"),
        findings=state.get("findings") or [],
        results_by_ref=state.get("results_by_ref") or {},
    )
    checked = enforce(proposal, violations)
    update: dict[str, Any] = {}
    if violations:  # a downgraded proposal is another proposal: its probability is read again
        confidence, update["calibration"] = calibrated(state, checked, fallback=checked["confidence"])
        checked["confidence"] = min(confidence, checked["confidence"])
    # `trusted_path` is the executor's note to the guard, not part of the contract's change.
    for key in ("changes", "rejected_changes"):
        if key in checked:
            checked[key] = [{k: v for k, v in c.items() if k != "trusted_path"} for c in checked[key]]
    return {"proposal": checked, **update}
