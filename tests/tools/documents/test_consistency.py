"""Document-payment consistency findings (tools/documents/consistency.py)."""

from __future__ import annotations

from typing import Any

from tools.documents.consistency import CODE, blocks_no_action, check_documents

PAYMENT: dict[str, Any] = {
    "message_type": "pacs.008",
    "amount": "2999.99",
    "currency": "GBP",
    "end_to_end_id": "E2E-1",
    "creditor": {"name": "Our Company", "account": {"iban": "DE89370400440532013000"}},
    "remittance_information": {"references": ["INV-5004"], "unstructured": ["INV-5004"]},
}


def _invoice(**remittance: Any) -> dict[str, Any]:
    base = {
        "currency": "GBP",
        "total_amount": "2999.99",
        "invoice_number": "INV-5004",
        "payee": {"name": "Our Company Ltd"},
        "iban": "DE89370400440532013000",
    }
    return {"doc_type": "invoice", "remittance": {**base, **remittance}, "findings": []}


def _by_field(findings: list[dict[str, str]]) -> dict[str, str]:
    return {f["field"]: f["severity"] for f in findings}


def test_a_matching_invoice_raises_nothing() -> None:
    assert check_documents(PAYMENT, [_invoice()]) == []


def test_currency_and_amount_disagreement_are_errors() -> None:
    findings = check_documents(PAYMENT, [_invoice(currency="EUR", total_amount="34.73")])
    assert _by_field(findings) == {
        "documents[0].remittance.currency": "error",
        "documents[0].remittance.total_amount": "error",
    }
    assert all(f["code"] == CODE for f in findings)
    assert len(blocks_no_action(findings)) == 2


def test_other_account_is_an_error_and_other_numbers_a_warning() -> None:
    findings = check_documents(
        PAYMENT,
        [_invoice(iban="GB82WEST12345698765432", invoice_number="INV-9999", payee={"name": "Zeta GmbH"})],
    )
    assert _by_field(findings) == {
        "documents[0].remittance.iban": "error",
        "documents[0].remittance.invoice_number": "warning",
        "documents[0].remittance.payee.name": "warning",
    }


def test_one_of_several_invoices_may_differ_from_the_payment_total() -> None:
    payment = {**PAYMENT, "remittance_information": {"references": ["INV-5001", "INV-5004"]}}
    findings = check_documents(payment, [_invoice(total_amount="1200.00", invoice_number="INV-5001")])
    assert _by_field(findings) == {"documents[0].remittance.total_amount": "warning"}
    assert blocks_no_action(findings) == []


def test_credit_note_and_einvoice_mismatch_are_lifted() -> None:
    forged = _invoice(total_amount="-2999.99")
    forged["findings"] = [
        {
            "code": "EINVOICE_MISMATCH",
            "severity": "error",
            "message": "printed IBAN differs",
            "field": "remittance.iban",
        }
    ]
    findings = check_documents(PAYMENT, [forged, {"doc_type": "unknown", "remittance": {"currency": "EUR"}}])
    assert {(f["code"], f["field"]) for f in findings} == {
        (CODE, "documents[0].remittance.total_amount"),
        ("EINVOICE_MISMATCH", "documents[0].remittance.iban"),
    }
    assert len(blocks_no_action(findings)) == 2
