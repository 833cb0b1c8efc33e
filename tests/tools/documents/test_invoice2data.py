"""The four real supplier invoices from invoice2data: the fields a person expects from each."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tools.documents import extract_document

INVOICES = ["AzureInterior", "QualityHosting", "coolblue1", "saeco"]


@pytest.mark.parametrize("name", INVOICES)
def test_real_invoice_fields(shared_data: Path, name: str) -> None:
    folder = shared_data / "invoices" / "invoice2data"
    expected = json.loads((folder / f"{name}.json").read_text())[0]
    [extraction] = extract_document((folder / f"{name}.pdf").read_bytes(), f"{name}.pdf")
    remittance = extraction.remittance
    assert extraction.doc_type == "invoice"
    assert remittance is not None
    assert remittance.payee is not None and remittance.payee.name == expected["issuer"]
    assert remittance.total_amount == Decimal(str(expected["amount"]))
    assert remittance.invoice_date == date.fromisoformat(expected["date"])
    assert remittance.invoice_number == expected["invoice_number"]
    assert remittance.currency == expected["currency"]
    if "iban" in expected:
        assert remittance.iban == expected["iban"]
    # Azure's "bic" is a placeholder in the upstream template, not printed on the invoice.
    if "bic" in expected and expected["bic"] != "bic":
        assert remittance.bic == expected["bic"]
    by_name = {f.name: f for f in extraction.fields}
    assert by_name["remittance.total_amount"].source.page is not None
    assert by_name["remittance.total_amount"].source.bbox is not None


def test_non_iban_account_is_flagged(shared_data: Path) -> None:
    data = (shared_data / "invoices" / "invoice2data" / "AzureInterior.pdf").read_bytes()
    [extraction] = extract_document(data, "AzureInterior.pdf")
    assert any(f.field == "remittance.iban" for f in extraction.findings)
