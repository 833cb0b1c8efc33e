"""guard: check the proposal (see :mod:`agents.guard`) and downgrade it when it breaks a rule.

Reads the state's JSON as :class:`agents.contract.Proposal` and writes the checked proposal's JSON.
A violation ``propose`` already recorded (a plan the contract refused) stays on the verdict.
"""

from __future__ import annotations

from typing import Any

from agents.confidence import calibrated
from agents.contract import Proposal
from agents.guard import check, enforce, evidence_by_ref
from agents.state import TriageState


def guard(state: TriageState) -> dict[str, Any]:
    proposal = Proposal.model_validate(state["proposal"])
    case = dict(state["case"])
    case["exception_code"] = state.get("exception_code")
    prior = proposal.guard.violations if proposal.guard is not None else []
    violations = prior + check(
        proposal,
        case=case,
        payment=state.get("payment"),
        findings=state.get("findings") or [],
        results_by_ref=evidence_by_ref(state.get("results_by_ref") or {}),
    )
    checked = enforce(proposal, violations)
    update: dict[str, Any] = {}
    if violations:  # a downgraded proposal is another proposal: its probability is read again
        fallback = checked.confidence or 0.0
        confidence, update["calibration"] = calibrated(state, checked.dump(), fallback=fallback)
        checked = checked.revised(confidence=min(confidence, checked.confidence or 0.0))
    # `trusted_path` is the executor's note to the guard, not part of the contract's change.
    public = {"changes": [c.public() for c in checked.changes]}
    if checked.rejected_changes:
        public["rejected_changes"] = [c.public() for c in checked.rejected_changes]
    checked = checked.revised(**public)
    return {"proposal": checked.dump(), **update}
