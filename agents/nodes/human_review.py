"""human_review: pause the thread with the proposal until an analyst decides.

``interrupt`` re-runs this node from its start on resume, so it has no side effects: it only
returns the decision (approve | edit | reject), validated against :class:`agents.contract.Decision`
and normalised by :func:`agents.cases.validate_decision`, for ``apply``.
"""

from __future__ import annotations

from typing import Any

from langgraph.types import interrupt

from agents.cases import validate_decision
from agents.state import TriageState


def human_review(state: TriageState) -> dict[str, Any]:
    decision = interrupt(state["proposal"])
    return {"decision": validate_decision(decision)}
