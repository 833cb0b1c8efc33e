"""The API documents the agent contract's types (agents/contract.py), not untyped objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agents.contract import Proposal
from app.api.routes.exceptions import CASE_EXAMPLE
from app.api.schemas import CaseOut
from app.services.cases import PROPOSAL_KEYS
from tests.app.conftest import Api, StubTriage, add_tokens
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
    assert set(schemas["Change"]["properties"]) == {"field", "old", "new", "evidence"}  # no guard's note
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


def test_a_proposal_outside_the_contract_fails_the_case_and_is_never_stored(
    make_app: Callable[..., FastAPI], stub_triage: StubTriage, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = stub_triage.start

    def typo(case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        return {**original(case, thread_id), "confidence": 1.7}  # a backend's probability out of range

    monkeypatch.setattr(stub_triage, "start", typo)
    app = make_app()
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        view = api.wait_status(api.submit(case_id="EXC-OFF-CONTRACT"), "failed")
    assert "does not fit the contract: confidence: Input should be less than or equal to 1" in view["error"]
    assert "action" not in view and "changes" not in view  # nothing was stored for an analyst
