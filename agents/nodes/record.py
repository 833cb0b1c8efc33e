"""record: store the reviewed case as a labelled example (input, proposal, decision, final changes).

The record id is the thread id, and :func:`agents.decisions.record_decision` skips ids it already
holds, so this side effect happens once per case even if the node is re-run.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.decisions import record_decision
from agents.state import TriageState


def record(state: TriageState, config: RunnableConfig) -> dict[str, Any]:
    result = state["result"]
    thread_id = str((config.get("configurable") or {}).get("thread_id") or state["case"].get("case_id") or "")
    record_decision(
        thread_id,
        {
            "thread_id": thread_id,
            "case_id": state["case"].get("case_id"),
            "input": state["case"],
            "exception_code": state.get("exception_code"),
            "proposal": state["proposal"],
            "decision": result.get("decision"),
            "final_changes": result.get("final_changes", []),
            "status": result.get("status"),
        },
    )
    return {}
