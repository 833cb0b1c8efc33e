"""Proposals are made through the contract (agents/contract.py), never as dicts typed by hand.

A hand-built proposal is a dict literal (or ``dict(...)`` call) that holds ``action`` together with a
key only a proposal has (``guard``, ``tool_calls``, ...), or a write of a proposal key into a dict
named like a proposal (``proposal["guard"] = ...``). Plans (``agents/nodes/verify.py``) hold
``action`` and ``changes`` but none of those keys: they are the planner's, and ``propose`` turns them
into a :class:`~agents.contract.Proposal`. Documentation examples (a module's upper-case constant,
a schema's ``examples``) are JSON for readers: tests/app/test_api_contract.py validates them instead.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

from agents.contract import Proposal
from app.api.schemas import CaseOut
from app.services.cases import PROPOSAL_KEYS

ROOT = Path(__file__).resolve().parents[2]
# The layers that make or change proposals: the graph's nodes, the guard, the runner, the API and
# the services that store an edit, and the UI's case page.
SCANNED = [
    *sorted((ROOT / "agents" / "nodes").glob("*.py")),
    ROOT / "agents" / "guard.py",
    ROOT / "agents" / "runner.py",
    *sorted((ROOT / "app" / "api").rglob("*.py")),
    ROOT / "app" / "services" / "decisions.py",
    ROOT / "app" / "services" / "edits.py",
    ROOT / "app" / "ui" / "view.py",
]
PROPOSAL_ONLY = frozenset(
    {"guard", "tool_calls", "citations", "rejected_changes", "classification_confidence", "versions"}
)
PROPOSAL_NAMES = frozenset({"proposal", "payload", "checked"})


def _keys(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Dict):
        return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return {k.arg for k in node.keywords if k.arg}
    return set()


def _examples(tree: ast.Module) -> set[int]:
    """ids of the nodes inside documentation examples (see the module docstring)."""
    roots: list[ast.AST] = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets)
    ]
    roots += [
        k.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for k in node.keywords
        if k.arg in ("examples", "json_schema_extra")
    ]
    return {id(n) for root in roots for n in ast.walk(root)}


def hand_built(source: str) -> list[str]:
    """Where ``source`` builds or edits a proposal as a dict (line: what)."""
    found = []
    tree = ast.parse(source)
    examples = _examples(tree)
    for node in ast.walk(tree):
        keys = _keys(node) if id(node) not in examples else set()
        if "action" in keys and keys & PROPOSAL_ONLY:
            found.append(f"{getattr(node, 'lineno', 0)}: a proposal dict with {sorted(keys & PROPOSAL_ONLY)}")
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id in PROPOSAL_NAMES
                and isinstance(target.slice, ast.Constant)
                and target.slice.value in Proposal.model_fields
            ):
                written = f"{target.value.id}[{target.slice.value!r}]"
                found.append(f"{getattr(node, 'lineno', 0)}: {written} set by hand")
    return found


def test_no_layer_builds_a_proposal_by_hand() -> None:
    broken = [
        f"{path.relative_to(ROOT)}:{where}" for path in SCANNED for where in hand_built(path.read_text())
    ]
    assert broken == []


def test_the_check_catches_what_it_is_for() -> None:
    # The shapes this replaced: propose's literal, the guard's downgrade, the edit's payload.
    assert hand_built('proposal = {"action": plan["action"], "changes": [], "guard": {"passed": True}}')
    assert hand_built('checked = dict(proposal)\nchecked["rejected_changes"] = []')
    assert hand_built('payload["changes"] = changes')
    assert hand_built("x = dict(action='repair', tool_calls=[])")
    assert hand_built('def f():\n    EXAMPLE = {"action": "repair", "guard": {}}')  # not module level
    assert hand_built('EXAMPLE = {"action": "repair", "guard": {}}') == []  # documentation
    # A plan, a decision and reading a proposal are not building one.
    assert hand_built('plan = {"action": "repair", "changes": [], "rationale": "", "rule": None}') == []
    assert hand_built('decision = {"decision": "approve", "changes": []}') == []
    assert hand_built('action = proposal["action"]') == []
    assert SCANNED and all(p.exists() for p in SCANNED)


def _optional(annotation: object) -> object:
    return annotation if type(None) in typing.get_args(annotation) else typing.Optional[annotation]  # noqa: UP045


def test_the_case_view_types_every_proposal_field_as_the_contract_does() -> None:
    for key in PROPOSAL_KEYS:
        if key == "exception_code":  # a case has its code before it has a proposal
            continue
        ours, contract = CaseOut.model_fields[key].annotation, Proposal.model_fields[key].annotation
        assert _optional(ours) == _optional(contract), (key, ours, contract)
