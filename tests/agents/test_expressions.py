"""The playbook's expression language: what it evaluates, and what it refuses to run."""

from __future__ import annotations

import pytest

from tools.procedures.expressions import (
    ExpressionError,
    Scope,
    compile_condition,
    evaluate,
    render,
    resolve_value,
)

SCOPE = Scope(
    {
        "payment": {
            "amount": "6740.91",
            "currency": "EUR",
            "creditor": {"name": "ACME", "account": {"iban": "DE1"}},
        },
        "ssi": {"found": True, "name_score": 0.91, "iban": "DE2", "ref": "ssi:C-1:1"},
        "dup": {"found": False, "count": 0, "duplicates": [{"reference": "R1"}, {"reference": "R2"}]},
        "remittance": {"lines": [{"invoice_number": "INV-1"}, {"invoice_number": "INV-2"}, {}]},
        "case": {"notes": "customer says Sanction hit", "customer_id": None},
    }
)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("ssi.found and ssi.name_score >= 0.85 and ssi.iban != payment.creditor.account.iban", True),
        ("ssi.name_score < 0.85", False),
        ("not dup.found", True),
        ("dup.count > 0 or payment.amount > 5000", True),  # numeric string vs number compares as decimal
        ("payment.amount > 7000", False),
        ("len(dup.duplicates) == 2", True),
        ("len(missing.thing) == 0", True),
        ("payment.currency in ['EUR', 'GBP']", True),
        ("payment.currency not in ['EUR', 'GBP']", False),
        ("'Sanction' in case.notes", True),
        ("'x' in case.customer_id", False),  # membership in None is false, not an error
        ("missing.score >= 0.85", False),  # ordering against None is false
        ("missing.value == None", True),
        ("-1 < 0", True),
    ],
)
def test_conditions(expr: str, expected: bool) -> None:
    assert bool(evaluate(expr, SCOPE)) is expected


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('true')",
        "payment.amount.__class__",  # attribute chains are data paths: resolves to None, never Python attrs
        "open('x')",
        "[x for x in dup]",
        "lambda: 1",
        "payment['amount']",
        "ssi.iban if ssi.found else 1",
        "a := 1",
        "payment.amount + 1",
    ],
)
def test_refuses_code(expr: str) -> None:
    if expr == "payment.amount.__class__":
        assert evaluate(expr, SCOPE) is None
        return
    with pytest.raises(ExpressionError):
        compile_condition(expr)


def test_paths_literals_and_lists() -> None:
    assert resolve_value("ssi.iban", SCOPE) == "DE2"
    assert resolve_value("=mt199", SCOPE) == "mt199"
    assert resolve_value(5, SCOPE) == 5
    assert resolve_value("dup.duplicates.1.reference", SCOPE) == "R2"
    assert resolve_value("remittance.lines.invoice_number", SCOPE) == ["INV-1", "INV-2"]
    assert resolve_value(["remittance.lines.invoice_number", "=INV-9", "nothing.here"], SCOPE) == [
        "INV-1",
        "INV-2",
        "INV-9",
    ]
    with pytest.raises(ExpressionError):
        resolve_value("not a path!", SCOPE)


def test_render() -> None:
    text = render("SSI {ssi.ref} gives {ssi.iban} for {payment.currency}; dup {missing.x}", SCOPE)
    assert text == "SSI ssi:C-1:1 gives DE2 for EUR; dup n/a"
