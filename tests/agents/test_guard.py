"""The guard's rules, each checked on a proposal that breaks it and on one that does not."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from agents.contract import Proposal, Violation
from agents.guard import check, enforce, evidence_by_ref
from tools import config

SSI_RESULT = {
    "found": True,
    "iban": "DE14370400441234567890",
    "bic": "COBADEFFXXX",
    "name_score": 0.97,
    "ref": "ssi:C-1:1",
}
WEAK_SCORE = 0.6
WEAK_SSI = {**SSI_RESULT, "name_score": WEAK_SCORE, "ref": "ssi:C-2:1"}
RESULTS = {
    "ssi:C-1:1": {"tool": "get_ssi", "result": SSI_RESULT},
    "ssi:C-2:1": {"tool": "get_ssi", "result": WEAK_SSI},
    "bank:COBADEFFXXX": {
        "tool": "lookup_bic",
        "result": {"found": True, "bic": "COBADEFFXXX", "ref": "bank:COBADEFFXXX"},
    },
    "iban:DE15": {
        "tool": "validate_iban",
        "result": {"valid": False, "iban": "DE15", "bic": "COBADEFFXXX", "ref": "iban:DE15"},
    },
    "invoice:INV-1": {
        "tool": "match_invoices",
        "result": {"invoices": [{"invoice_number": "INV-1"}], "ref": "invoice:INV-1"},
    },
}
PAYMENT = {"amount": "5000", "currency": "EUR"}


def _proposal(changes: list[dict[str, Any]], action: str = "repair", **extra: Any) -> Proposal:
    return Proposal.model_validate(
        {"action": action, "changes": changes, "confidence": 0.9, "rationale": "r", **extra}
    )


def _codes(
    proposal: Proposal, case: dict[str, Any] | None = None, payment: dict[str, Any] | None = None
) -> list[str]:
    found = check(
        proposal,
        case=case or {"exception_code": "AC01"},
        payment=payment or PAYMENT,
        findings=[],
        results_by_ref=evidence_by_ref(RESULTS),
    )
    return [v.code for v in found]


IBAN_CHANGE = {"field": "payment.creditor.account.iban", "new": SSI_RESULT["iban"], "evidence": ["ssi:C-1:1"]}


def test_repair_from_matching_ssi_passes() -> None:
    assert _codes(_proposal([IBAN_CHANGE])) == []


def test_value_not_in_cited_result_is_rejected() -> None:
    change = {**IBAN_CHANGE, "new": "DE04100700001111111111"}  # e.g. copied from a document
    assert _codes(_proposal([change])) == ["untrusted_source"]


def test_untrusted_tool_cannot_supply_a_value() -> None:
    change = {
        "field": "payment.remittance_information.references",
        "new": "INV-1",
        "evidence": ["invoice:INV-1"],
    }
    assert _codes(_proposal([change])) == ["untrusted_source"]


def test_uncited_value_is_rejected() -> None:
    assert _codes(_proposal([{**IBAN_CHANGE, "evidence": []}])) == ["untrusted_source"]


def test_value_from_data_path_is_rejected() -> None:
    assert _codes(_proposal([{**IBAN_CHANGE, "trusted_path": False}])) == ["untrusted_source"]


def test_validate_iban_only_vouches_for_its_bic() -> None:
    bic = {"field": "payment.creditor_agent.bic", "new": "COBADEFFXXX", "evidence": ["iban:DE15"]}
    assert _codes(_proposal([bic])) == []
    echo = {"field": "payment.creditor.account.iban", "new": "DE15", "evidence": ["iban:DE15"]}
    assert _codes(_proposal([echo])) == ["untrusted_source"]


def test_amount_and_currency_are_never_changed() -> None:
    for field in ("payment.amount", "payment.currency"):
        assert _codes(_proposal([{"field": field, "new": "1", "evidence": ["ssi:C-1:1"]}])) == [
            "amount_or_currency_change"
        ]


def test_account_repair_needs_a_matching_ssi() -> None:
    weak = {**IBAN_CHANGE, "evidence": ["ssi:C-2:1"]}
    assert _codes(_proposal([weak])) == ["account_without_ssi"]
    # Test data: one change per case, alike by design.
    from_bank = {
        "field": "payment.creditor.account.iban",
        "new": "COBADEFFXXX",
        "evidence": ["bank:COBADEFFXXX"],
    }
    assert _codes(_proposal([from_bank])) == ["account_without_ssi"]


def test_sanctions_case_is_only_escalated() -> None:
    assert _codes(
        _proposal([IBAN_CHANGE]), case={"exception_code": "AC01", "notes": "OFAC screening hit"}
    ) == ["sanctions_case"]
    assert _codes(_proposal([], action="escalate"), case={"exception_code": "RR04"}) == []
    assert _codes(_proposal([], action="request_info"), case={"exception_code": "RR04"}) == ["sanctions_case"]


def test_four_eyes_threshold() -> None:
    big = {"amount": "250000.01", "currency": "EUR"}
    assert _codes(_proposal([IBAN_CHANGE], four_eyes_above="250000"), payment=big) == ["four_eyes_missing"]
    assert _codes(_proposal([IBAN_CHANGE], four_eyes_above="250000", four_eyes=True), payment=big) == []
    assert _codes(_proposal([IBAN_CHANGE], four_eyes_above="250000"), payment={"amount": "250000"}) == []


def test_enforce_downgrades_and_keeps_rejected_changes() -> None:
    violations = [Violation(code="untrusted_source", message="nope")]
    result = enforce(_proposal([IBAN_CHANGE]), violations).dump()
    assert result["action"] == "escalate" and result["changes"] == []
    assert result["rejected_changes"] == [IBAN_CHANGE]
    assert result["guard"] == {
        "passed": False,
        "violations": [{"code": "untrusted_source", "message": "nope"}],
        "original_action": "repair",
    }
    assert result["confidence"] <= 0.5
    assert enforce(_proposal([IBAN_CHANGE]), []).dump()["guard"] == {"passed": True, "violations": []}


def _proposed(plan_threshold: str | None, amount: str) -> Proposal:
    """What `propose` makes of a repair plan whose rule claims ``plan_threshold`` (``None``: none)."""
    from agents.nodes.propose import propose

    plan = {"action": "repair", "changes": [IBAN_CHANGE], "rationale": "r", "confidence": 0.9}
    plan["four_eyes_above"] = plan_threshold
    state: Any = {"plan": plan, "case": {"case_id": "T-1"}, "payment": {"amount": amount, "currency": "EUR"}}
    return Proposal.model_validate(propose(state)["proposal"])


def test_four_eyes_check_fires_on_what_propose_made() -> None:
    # Issue 15: `propose` and the guard applied the same threshold, so the check could never fire.
    # A planner that claims a threshold above every threshold of the four-eyes policy is held to it.
    proposal = _proposed("10000000", "300000")
    assert proposal.four_eyes is False  # propose follows the planner...
    assert _codes(proposal, payment={"amount": "300000", "currency": "EUR"}) == ["four_eyes_missing"]
    # ...and a plan within the policy passes: the standard threshold (250,000) and the default.
    within = _proposed("250000", "300000")
    assert within.four_eyes is True
    assert _codes(within, payment={"amount": "300000", "currency": "EUR"}) == []
    default = _proposed(None, "150000")
    assert default.four_eyes is True and default.four_eyes_above == "100000"


def test_a_zero_threshold_means_always_four_eyes() -> None:
    # `four_eyes: always` (SOP-RC01's directory repair) resolves to 0; it used to fall back to the default.
    proposal = _proposed("0", "5000")
    assert proposal.four_eyes is True
    assert _codes(proposal.revised(four_eyes=False)) == ["four_eyes_missing"]


def test_four_eyes_default_keeps_its_configured_override() -> None:
    # REPAIRDESK_FOUR_EYES_ABOVE reaches the guard through Settings -> ToolConfig.
    with config.override(four_eyes_above=Decimal("500000")):
        proposal = _proposed(None, "400000")
        assert proposal.four_eyes is False and proposal.four_eyes_above == "500000"
        assert _codes(proposal, payment={"amount": "400000", "currency": "EUR"}) == []
        assert _codes(proposal, payment={"amount": "500000.01", "currency": "EUR"}) == ["four_eyes_missing"]


def test_policy_fields_and_ssi_score_come_from_the_global_policies() -> None:
    from tools.procedures import default_policies

    policies = default_policies()
    assert "payment.amount" in policies.money_fields.fields
    amount = {"field": "payment.amount", "old": "1", "new": "2", "evidence": ["ssi:C-1:1"]}
    assert _codes(_proposal([amount])) == ["amount_or_currency_change"]
    weak = {**IBAN_CHANGE, "evidence": ["ssi:C-2:1"], "new": WEAK_SSI["iban"]}
    assert policies.ssi.min_name_score > WEAK_SCORE
    assert _codes(_proposal([weak])) == ["account_without_ssi"]
