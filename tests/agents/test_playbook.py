"""The playbook executor against the spec in docs/playbook.md."""

from __future__ import annotations

from typing import Any

import pytest

from agents.playbook import Step, extract_playbook, outcomes, run_steps
from tools.procedures import parse_playbook
from tools.procedures.expressions import ExpressionError, Scope

# Test data: a playbook block like the retrieval tests' corpus, kept here so each suite owns its data.
BLOCK = """
# Procedure
```playbook
version: 1
steps:
  - id: iban
    tool: validate_iban
    args: {iban: payment.creditor.account.iban}
  - id: ssi
    tool: get_ssi
    args: {customer_id: case.customer_id, currency: payment.currency, beneficiary_name: payment.creditor.name}
    when: "case.customer_id"
  - id: draft
    tool: draft_investigation
    args: {kind: "=mt199", reason: "=AC01"}
rules:
  - when: "ssi.found and ssi.name_score >= 0.85 and ssi.iban != payment.creditor.account.iban"
    action: repair
    four_eyes_above: 1000
    changes:
      - field: payment.creditor.account.iban
        value: ssi.iban
        evidence: ssi.ref
    rationale: "SSI {ssi.ssi_id} gives {ssi.iban}."
  - when: "not ssi.found"
    action: request_info
    rationale: "No SSI."
  - otherwise: true
    action: escalate
    rationale: "Inconsistent."
```
"""
PAYMENT = {"currency": "EUR", "amount": "5000", "creditor": {"name": "ACME", "account": {"iban": "DE00BAD"}}}


def _run(
    case: dict[str, Any], results: dict[str, dict[str, Any]]
) -> tuple[list[tuple[str, dict[str, Any]]], Scope]:
    playbook = extract_playbook(BLOCK, "SOP-T")
    assert playbook is not None
    scope = Scope({"case": case, "payment": PAYMENT, "remittance": None})
    calls: list[tuple[str, dict[str, Any]]] = []

    def call(step: Step, args: dict[str, Any]) -> dict[str, Any]:
        calls.append((step.tool, args))
        return results.get(step.tool, {"found": False})

    required = {"validate_iban": frozenset({"iban"}), "get_ssi": frozenset({"customer_id"})}
    run_steps(playbook, scope, call, lambda tool: required.get(tool, frozenset()))
    return calls, scope


def test_steps_run_in_order_with_resolved_args_and_literals() -> None:
    ssi = {"found": True, "name_score": 0.97, "iban": "DE00GOOD", "ssi_id": "C-1:1", "ref": "ssi:C-1:1"}
    calls, scope = _run({"customer_id": "C-1"}, {"get_ssi": ssi})
    assert calls == [
        ("validate_iban", {"iban": "DE00BAD"}),
        ("get_ssi", {"customer_id": "C-1", "currency": "EUR", "beneficiary_name": "ACME"}),
        ("draft_investigation", {"kind": "mt199", "reason": "AC01"}),
    ]
    playbook = extract_playbook(BLOCK, "SOP-T")
    assert playbook is not None
    fired = outcomes(playbook, scope)
    decision = fired[0]
    assert decision.action == "repair"
    assert decision.changes == [
        {
            "field": "payment.creditor.account.iban",
            "old": "DE00BAD",
            "new": "DE00GOOD",
            "evidence": ["ssi:C-1:1"],
            "trusted_path": True,
        }
    ]
    assert decision.rationale == "SSI C-1:1 gives DE00GOOD."
    assert str(decision.four_eyes_above) == "1000"
    assert [o.action for o in fired] == ["repair", "escalate"]


def test_step_when_false_skips_and_missing_names_are_none() -> None:
    calls, scope = _run({"customer_id": None}, {})
    assert [tool for tool, _ in calls] == ["validate_iban", "draft_investigation"]
    playbook = extract_playbook(BLOCK, "SOP-T")
    assert playbook is not None
    assert outcomes(playbook, scope)[0].action == "request_info"  # `not ssi.found` with ssi missing


def test_unresolvable_required_arg_skips_step() -> None:
    playbook = parse_playbook(
        {
            "steps": [{"id": "acct", "tool": "lookup_account", "args": {"iban": "ssi.iban"}}],
            "rules": [{"otherwise": True, "action": "escalate"}],
        },
        "T",
    )
    called: list[str] = []

    def call(step: Step, _args: dict[str, Any]) -> dict[str, Any]:
        called.append(step.id)
        return {}

    run_steps(playbook, Scope({}), call, lambda _t: frozenset({"iban"}))
    assert called == []


def test_value_from_data_root_is_marked_untrusted() -> None:
    playbook = parse_playbook(
        {
            "steps": [],
            "rules": [
                {
                    "when": "true",
                    "action": "repair",
                    "changes": [{"field": "payment.creditor.name", "value": "remittance.payee.name"}],
                },
                {"otherwise": True, "action": "escalate"},
            ],
        },
        "T",
    )
    scope = Scope({"remittance": {"payee": {"name": "Evil Ltd"}}, "payment": {}})
    change = outcomes(playbook, scope)[0].changes[0]
    assert change["new"] == "Evil Ltd" and change["trusted_path"] is False


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            {
                "steps": [{"id": "x", "tool": "rm_rf", "args": {}}],
                "rules": [{"otherwise": True, "action": "escalate"}],
            },
            "unknown tool",
        ),
        ({"steps": [], "rules": [{"when": "true", "action": "escalate"}]}, "otherwise"),
        (
            {
                "steps": [],
                "rules": [
                    {"when": "__import__('os')", "action": "repair"},
                    {"otherwise": True, "action": "escalate"},
                ],
            },
            "only len",
        ),
        ({"steps": [], "rules": [{"otherwise": True, "action": "delete"}]}, "action"),
        (
            {
                "steps": [{"id": "payment", "tool": "get_ssi"}],
                "rules": [{"otherwise": True, "action": "escalate"}],
            },
            "shadow",
        ),
    ],
)
def test_bad_blocks_are_refused(data: dict[str, Any], reason: str) -> None:
    with pytest.raises(ExpressionError, match=reason):
        parse_playbook(data, "SOP-BAD")


def test_every_corpus_playbook_parses() -> None:
    from agents.toolbox import load_procedure_refs

    refs = load_procedure_refs()
    assert refs, "no procedures in corpora/procedures"
    assert sum(1 for r in refs if r.playbook is not None) >= len(refs) // 2


def test_the_sanctions_policy_comes_before_every_procedure_rule() -> None:
    from agents.playbook import policy_scope
    from agents.toolbox import load_procedure_refs

    case = {"customer_id": "C-1", "exception_code": "AC01", "notes": "Possible sanctions match"}
    clean = {**case, "notes": "customer called"}
    checked = 0
    for procedure in load_procedure_refs():
        if procedure.playbook is None:
            continue
        hit = Scope({"case": case, "payment": PAYMENT, "policy": policy_scope(case, [])})
        decision = outcomes(procedure.playbook, hit)[0]
        assert (decision.action, decision.rule.policy) == ("escalate", "sanctions"), procedure.doc_id
        assert decision.key == "policy:sanctions" and decision.changes == []
        quiet = Scope({"case": clean, "payment": PAYMENT, "policy": policy_scope(clean, [])})
        assert outcomes(procedure.playbook, quiet)[0].rule.policy is None, procedure.doc_id
        checked += 1
    assert checked >= 30
