"""The playbook rules of key procedures decide what their prose says, on representative evidence.

Each scenario binds tool results to the step ids of a procedure's playbook and evaluates the rules in
order with the agent's own executor (agents.playbook, global policies first), so a rule edited into
the wrong order or with a wrong condition changes the decision and fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from agents.playbook import outcomes, policy_scope
from tools.procedures import get_procedure
from tools.procedures.expressions import Scope

IBAN = "DE89370400440532013000"
SSI_IBAN = "DE44500105175407324931"


def decide(doc_id: str, evidence: dict[str, Any], notes: str | None = None) -> tuple[str, dict[str, Any]]:
    """The first rule that holds (global policies first, as the agent runs them): its action and its
    changes resolved to concrete values."""
    procedure = get_procedure(doc_id)
    assert procedure.playbook is not None
    payment = {
        "reference": "REF-1",
        "uetr": "8a562c67-ca16-48ba-b074-65581be6f011",
        "amount": "12500.00",
        "currency": "EUR",
        "value_date": "2026-03-02",
        "charge_bearer": "SHAR",
        "creditor": {"name": "Acme GmbH", "account": {"iban": IBAN}},
        "creditor_agent": {"bic": "COBADEFFXXX"},
        "remittance_information": {"references": ["INV-1"]},
    }
    case = {"customer_id": "C-1042", "exception_code": "X", "notes": notes}
    policy = policy_scope(case, [])
    scope = Scope({"case": case, "payment": payment, "remittance": None, "policy": policy, **evidence})
    decision = outcomes(procedure.playbook, scope)[0]
    return decision.action, {c["field"]: c["new"] for c in decision.changes}


def ssi(**overrides: Any) -> dict[str, Any]:
    found = {"found": True, "ssi_id": "C-1042:1", "beneficiary_name": "ACME GmbH", "iban": SSI_IBAN}
    found.update({"bic": "BYLADEMMXXX", "address_lines": ["Hauptstr. 1", "80331 Muenchen"], "country": "DE"})
    found.update({"name_score": 0.93, "ref": "ssi:C-1042:1"})
    return {**found, **overrides}


OPEN = {"found": True, "status": "open", "customer_id": "C-7", "ref": f"account:{SSI_IBAN}"}
CLOSED = {**OPEN, "status": "closed"}
MISSING = {"found": False}


@pytest.mark.parametrize(
    ("doc_id", "evidence", "action", "changes"),
    [
        (
            "SOP-AC01",
            {"ssi": ssi(), "ssi_acct": MISSING},
            "repair",
            {"payment.creditor.account.iban": SSI_IBAN},
        ),
        ("SOP-AC01", {"ssi": ssi(), "ssi_acct": CLOSED}, "escalate", {}),
        ("SOP-AC01", {"ssi": ssi(name_score=0.6), "ssi_acct": OPEN}, "request_info", {}),
        ("SOP-AC01", {"ssi": MISSING}, "request_info", {}),
        ("SOP-AC01", {"ssi": ssi(iban=IBAN), "ssi_acct": OPEN}, "investigate", {}),
        (
            "SOP-AC04",
            {"cur": MISSING, "ssi": ssi(), "ssi_acct": OPEN},
            "repair",
            {"payment.creditor.account.iban": SSI_IBAN},
        ),
        ("SOP-AC04", {"cur": MISSING, "ssi": ssi(), "ssi_acct": CLOSED}, "return", {}),
        ("SOP-AC04", {"cur": MISSING, "ssi": ssi(), "ssi_acct": MISSING}, "return", {}),
        ("SOP-AC04", {"cur": {**OPEN, "ref": "x"}, "ssi": ssi(), "ssi_acct": OPEN}, "investigate", {}),
        ("SOP-AC06", {"cur": MISSING, "ssi": MISSING}, "return", {}),
        ("SOP-AM05", {"dup": {"found": True, "count": 1, "ref": "payment:REF-0"}}, "return", {}),
        ("SOP-AM05", {"dup": {"found": False, "count": 0}}, "no_action", {}),
        (
            "SOP-BE01",
            {"ssi": ssi(iban=IBAN), "acct": MISSING},
            "repair",
            {"payment.creditor.name": "ACME GmbH"},
        ),
        ("SOP-BE01", {"ssi": ssi(), "acct": MISSING}, "request_info", {}),
        (
            "SOP-BE04",
            {"ssi": ssi(iban=IBAN), "acct": MISSING, "cust": None},
            "repair",
            {
                "payment.creditor.address_lines": ["Hauptstr. 1", "80331 Muenchen"],
                "payment.creditor.country": "DE",
            },
        ),
        ("SOP-BE04", {"ssi": MISSING, "acct": MISSING, "cust": None}, "request_info", {}),
        (
            "SOP-RC01",
            {
                "iban": {"valid": True, "bic": "DEUTDEFFXXX"},
                "bic": {"found": True},
                "derived": {"found": True, "bic": "DEUTDEFFXXX", "ref": "bank:DEUTDEFFXXX"},
            },
            "repair",
            {"payment.creditor_agent.bic": "DEUTDEFFXXX"},
        ),
        (
            "SOP-RC01",
            {"iban": {"valid": False}, "bic": {"found": False}, "banks": {"found": False}},
            "request_info",
            {},
        ),
        ("SOP-AM09", {"draft": {"ref": "draft:mt199:REF-1"}}, "investigate", {}),
        ("SOP-RR04", {"code": {"found": True, "name": "Regulatory Reason"}}, "escalate", {}),
        ("SOP-REM01", {"inv": {"found": True, "match_type": "exact"}}, "no_action", {}),
        ("SOP-REM01", {"inv": {"found": True, "match_type": "partial"}}, "investigate", {}),
        ("SOP-REM01", {"inv": {"found": False, "match_type": "none"}}, "request_info", {}),
        ("SOP-REM02", {"inv": {"found": True, "match_type": "exact"}}, "no_action", {}),
        (
            "SOP-RCL01",
            {
                "win": {"ref": "w", "days_since": 3, "within_10_days": True, "within_13_months": True},
                "draft": {"ref": "d"},
            },
            "investigate",
            {},
        ),
        (
            "SOP-RCL01",
            {"win": {"ref": "w", "days_since": 420, "within_10_days": False, "within_13_months": False}},
            "no_action",
            {},
        ),
        (
            "SOP-RCL01",
            {"win": {"ref": "w", "days_since": -2, "within_10_days": True, "within_13_months": True}},
            "return",
            {},
        ),
        (
            "SOP-DUPL",
            {
                "acct": OPEN,
                "dup": {"found": True, "ref": "p"},
                "win": {"ref": "w", "within_10_days": True, "within_13_months": True},
            },
            "return",
            {},
        ),
        (
            "SOP-DUPL",
            {
                "acct": OPEN,
                "dup": {"found": True, "ref": "p"},
                "win": {"ref": "w", "within_10_days": False, "within_13_months": True},
            },
            "investigate",
            {},
        ),
        (
            "SOP-CUST",
            {"win": {"ref": "w", "within_13_months": True}, "acct": OPEN, "draft": {"ref": "d"}},
            "investigate",
            {},
        ),
    ],
)
def test_rules_decide_as_the_procedure_says(
    doc_id: str, evidence: dict[str, Any], action: str, changes: dict[str, Any]
) -> None:
    assert decide(doc_id, evidence) == (action, changes)


@pytest.mark.parametrize("doc_id", ["SOP-AC01", "SOP-AC04", "SOP-BE01", "SOP-BE04", "SOP-RC01", "SOP-RR02"])
def test_a_sanctions_remark_stops_any_repair(doc_id: str) -> None:
    evidence = {"ssi": ssi(iban=IBAN), "ssi_acct": OPEN, "cur": MISSING, "acct": MISSING}
    evidence |= {"iban": {"valid": True}, "derived": {"found": True, "bic": "DEUTDEFFXXX"}}
    evidence |= {"cust": {"found": True, "address_lines": ["a"], "country": "DE", "customer_id": "C-1042"}}
    assert decide(doc_id, evidence, notes="Possible SANCTIONS match on beneficiary")[0] == "escalate"
