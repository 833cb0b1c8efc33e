"""The API documents the agent contract's types (agents/contract.py), not untyped objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from agents.contract import Proposal
from app.api.routes.exceptions import CASE_EXAMPLE
from app.api.schemas import CaseOut
from app.services.cases import PROPOSAL_KEYS
from tools.catalog import ACTIONS


def _refs(schema: dict[str, Any]) -> set[str]:
    """The component names a property schema points at (through ``anyOf`` and array ``items``)."""
    found = set()
    for option in schema.get("anyOf", [schema]):
        target = option.get("items", option)
        if "$ref" in target:
            found.add(target["$ref"].rsplit("/", 1)[-1])
    return found


def test_the_case_schema_is_the_typed_proposal(make_app: Callable[..., FastAPI]) -> None:
    spec = TestClient(make_app()).get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    case = schemas["CaseOut"]["properties"]
    assert _refs(case["changes"]) == {"Change"}
    assert _refs(case["citations"]) == {"Citation"}
    assert _refs(case["tool_calls"]) == {"ToolCall"}
    assert _refs(case["guard"]) == {"Guard"}
    assert _refs(case["steps"]) == {"Step"}
    action = next(o for o in case["action"]["anyOf"] if o.get("type") == "string")
    assert tuple(action["enum"]) == ACTIONS
    assert _refs(schemas["Guard"]["properties"]["violations"]) == {"Violation"}
    # The contract's parts refuse unknown keys, and say which keys they have.
    assert schemas["Change"]["additionalProperties"] is False
    assert set(schemas["Change"]["properties"]) >= {"field", "old", "new", "evidence"}
    assert set(schemas["Citation"]["properties"]) >= {"doc_id", "section", "row"}
    # A decision's body is the contract's too.
    decision = spec["components"]["schemas"]["DecisionIn"]["properties"]
    assert _refs(decision["changes"]) == {"EditedChange"}
    assert "user" not in decision  # who decides is the token's user, never the body's say


def test_the_documented_examples_are_valid_proposals() -> None:
    extra = CaseOut.model_config.get("json_schema_extra")
    assert isinstance(extra, dict) and isinstance(extra["examples"], list)
    examples: list[Any] = [CASE_EXAMPLE, *extra["examples"]]
    assert len(examples) == 2
    for example in examples:
        Proposal.model_validate({k: example[k] for k in PROPOSAL_KEYS if k in example})
