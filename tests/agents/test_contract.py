"""The typed contract (agents/contract.py): what it refuses, and that every layer goes through it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from pydantic import ValidationError

from agents.checkpoints import sqlite_checkpointer
from agents.contract import Change, Decision, PlannerChoice, Proposal, error_text
from agents.nodes.guard import guard
from agents.nodes.propose import propose
from agents.runner import TriageRunner
from tests.agents.conftest import CountingToolbox
from tests.agents.fixtures import GOOD_IBAN, OTHER_IBAN, ac01_case
from tests.agents.test_llm_path import _call, _runner

CHANGE = {"field": "payment.creditor.account.iban", "old": "X", "new": GOOD_IBAN, "evidence": ["ssi:C-1:1"]}
PASSED = {"passed": True, "violations": []}


def _refused(body: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        Proposal.model_validate(body)
    return error_text(caught.value)


def test_a_well_formed_proposal_round_trips_key_for_key() -> None:
    body = {
        "case_id": "C-1",
        "status": "pending_review",
        "action": "repair",
        "changes": [CHANGE],
        "rationale": "r",
        "citations": [{"doc_id": "SOP-AC01", "section": "3.2", "row": 1}],
        "tool_calls": [{"tool": "get_ssi", "args": {"customer_id": "C-1"}, "result_ref": "ssi:C-1:1"}],
        "confidence": 0.93,
        "guard": PASSED,
        "model": "playbook",
    }
    assert Proposal.model_validate(body).dump() == body  # nothing added, nothing lost


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"action": "wire_funds"}, "action: Input should be 'repair'"),
        ({"action": "repair", "confidence": 1.5}, "confidence: Input should be less than or equal to 1"),
        ({"action": "repair", "classification_confidence": -0.1}, "classification_confidence: Input should"),
        ({"action": "repair", "changes": [{**CHANGE, "new": {"iban": "X"}}]}, "changes[0].new"),
        ({"action": "repair", "changes": [{**CHANGE, "source": "notes"}]}, "changes[0].source: Extra inputs"),
        ({"action": "repair", "planner_note": "typo"}, "planner_note: Extra inputs are not permitted"),
        (
            {"action": "repair", "changes": [{**CHANGE, "evidence": []}], "guard": PASSED},
            "a change's value must come with evidence refs",
        ),
        (
            {"action": "repair", "changes": [{**CHANGE, "new": None}], "guard": PASSED},
            "a change that passed the guard needs a value",
        ),
        ({"action": "escalate", "changes": [CHANGE], "guard": PASSED}, "may not change fields"),
    ],
)
def test_invalid_proposals_are_refused_naming_why(body: dict[str, Any], says: str) -> None:
    assert says in _refused(body)


def test_the_invariants_hold_only_where_they_apply() -> None:
    # Before the guard, or after it failed, an unevidenced change is the guard's to judge and to show.
    Proposal.model_validate({"action": "repair", "changes": [{**CHANGE, "evidence": []}]})
    failed = {"passed": False, "violations": [{"code": "untrusted_source", "message": "m"}]}
    Proposal.model_validate({"action": "escalate", "rejected_changes": [CHANGE], "guard": failed})
    # An analyst's edit is checked by its own guard: a non-money field may stand without a ref.
    edit_guard = {"passed": True, "violations": [], "checked": "edit", "analyst_asserted": []}
    Proposal.model_validate(
        {"action": "repair", "changes": [{**CHANGE, "evidence": []}], "guard": edit_guard}
    )


def test_numbers_become_text_and_the_guards_note_is_not_public() -> None:
    change = Change.model_validate({"field": "payment.x", "new": 12, "evidence": ["r"], "trusted_path": True})
    assert change.new == "12" and change.public().dump() == {
        "field": "payment.x",
        "new": "12",
        "evidence": ["r"],
    }
    with pytest.raises(ValidationError) as caught:
        Change.model_validate({"field": "f", "new": True})
    assert "new" in error_text(caught.value)


def test_decisions_are_typed() -> None:
    assert Decision.model_validate({"decision": "approve", "user": "bo"}).user == "bo"
    for body, says in (
        ({"decision": "maybe"}, "decision: Input should be"),
        ({"decision": "edit"}, "an edit needs the changed `changes`"),
        ({"decision": "reject", "correct_action": "Return!"}, "correct_action: String should match"),
        ({"decision": "approve", "changes": [{"field": "payment.x", "new": [1]}]}, "changes[0].new"),
    ):
        with pytest.raises(ValidationError) as caught:
            Decision.model_validate(body)
        assert says in error_text(caught.value)


def _state(plan: dict[str, Any]) -> Any:
    return {
        "plan": plan,
        "case": {"case_id": "T-1", "exception_code": "AC01"},
        "exception_code": "AC01",
        "classification_confidence": 0.9,
        "payment": {"amount": "100", "currency": "EUR"},
        "results_by_ref": {},
    }


@pytest.mark.parametrize(
    "plan",
    [
        {"action": "wire_funds", "changes": [], "rationale": "because"},
        {"action": "repair", "changes": [{**CHANGE, "new": {"iban": OTHER_IBAN}}], "rationale": "because"},
    ],
)
def test_a_plan_outside_the_contract_escalates_and_says_why(plan: dict[str, Any]) -> None:
    state = _state(plan)
    state["proposal"] = propose(state)["proposal"]
    checked = Proposal.model_validate(guard(state)["proposal"])
    assert checked.action == "escalate" and checked.changes == []
    assert checked.guard is not None and not checked.guard.passed
    assert [v.code for v in checked.guard.violations] == ["invalid_proposal"]
    assert checked.guard.original_action == plan["action"]
    assert "does not fit the proposal contract" in checked.rationale and "because" in checked.rationale
    assert OTHER_IBAN not in json.dumps(checked.dump())


def test_malformed_llm_output_is_a_typed_error_and_never_a_change(toolbox: CountingToolbox) -> None:
    typed_change = {"field": "payment.creditor.account.iban", "new": OTHER_IBAN}
    script = [
        AIMessage(content="no tools needed"),
        # A model that types its own change, then one whose confidence is out of range.
        _call(
            "RepairDecision",
            {"candidate": "escalate", "rationale": "r", "confidence": 0.5, "changes": [typed_change]},
            "d1",
        ),
        _call("RepairDecision", {"candidate": "escalate", "rationale": "r", "confidence": 7}, "d2"),
    ]
    proposal = Proposal.model_validate(_runner(toolbox, script).start(ac01_case(), "contract-llm"))
    assert proposal.planner is not None and proposal.fallback is not None
    assert proposal.fallback.attempts == 2  # the first answer (its own `changes`) was refused too
    assert proposal.fallback.reason == "schema violation: confidence: Input should be less than or equal to 1"
    # No model-typed value: the guard-checked playbook verdict stands in for the lost answer.
    assert OTHER_IBAN not in json.dumps(proposal.dump())
    assert proposal.guard is not None and proposal.guard.passed
    with pytest.raises(ValidationError):
        PlannerChoice.model_validate(
            {"candidate": "escalate", "rationale": "r", "confidence": 0.5, "changes": []}
        )


READER = """
import json, sys, warnings
warnings.simplefilter("error")  # a checkpoint that needs an unlisted class to be rebuilt fails here
from agents.checkpoints import sqlite_checkpointer
from agents.contract import Proposal
from agents.runner import TriageRunner
runner = TriageRunner(checkpointer=sqlite_checkpointer(sys.argv[1]))
state = runner.get_state(sys.argv[2])
proposal = Proposal.model_validate(state["proposal"])
result = runner.resume(sys.argv[2], {"decision": "approve", "user": "second-process"})
print(json.dumps({"proposal": proposal.dump(), "result": result}))
"""


def test_a_checkpoint_is_read_back_and_resumed_in_a_fresh_process(
    toolbox: CountingToolbox, tmp_path: Path
) -> None:
    path = tmp_path / "checkpoints.sqlite"
    proposal = TriageRunner(checkpointer=sqlite_checkpointer(path), toolbox=toolbox).start(
        ac01_case(), "cp-1"
    )
    env = {**os.environ, "LANGGRAPH_STRICT_MSGPACK": "true", "PYTHONPATH": str(Path.cwd())}
    done = subprocess.run(
        [sys.executable, "-c", READER, str(path), "cp-1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["proposal"] == proposal  # the same contract JSON, read in another process
    result = out["result"]
    assert result["status"] == "applied" and result["final_changes"][0]["new"] == GOOD_IBAN
    assert Proposal.model_validate(result["proposal"]).status == "applied"
