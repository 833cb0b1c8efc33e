"""The per-field edit form's rows and the changes built back from a posted form."""

from __future__ import annotations

from app.ui.edit_form import changes_from_form, currency_codes, edit_rows

PAYMENT = {"currency": "EUR", "creditor": {"name": "Acme", "account": {"iban": "DE89370400440532013001"}}}
PROPOSED = [
    {
        "field": "payment.creditor.account.iban",
        "old": "DE89370400440532013001",
        "new": "DE89370400440532013000",
        "evidence": ["ssi:C-1001:1"],
    },
    {"field": "payment.amount", "old": "1", "new": "2", "evidence": ["analyst-asserted"]},
]


def test_rows_prefill_the_proposal_and_offer_the_evidence() -> None:
    rows = {r["field"]: r for r in edit_rows(PROPOSED, PAYMENT, ["ssi:C-1001:1", "bic:X"])}
    iban = rows["payment.creditor.account.iban"]
    assert iban["current"] == "DE89370400440532013001" and iban["value"] == "DE89370400440532013000"
    assert iban["source"] == "ssi:C-1001:1"
    assert iban["options"] == ["analyst-asserted", "ssi:C-1001:1", "bic:X"]
    assert rows["payment.creditor.name"]["value"] == "Acme"
    assert rows["payment.creditor.name"]["source"] == "analyst-asserted"
    assert "EUR" in currency_codes() and "XYZ" not in currency_codes()


def test_changes_keep_unoffered_proposals_skip_unchanged_and_compact_ibans() -> None:
    form = {
        "value:payment.creditor.account.iban": "gb82 west 1234 5698 7654 32",
        "source:payment.creditor.account.iban": "analyst-asserted",
        "value:payment.creditor.name": "Acme",  # the payment's own value: no change
        "value:payment.currency": "EUR",
    }
    changes = {c["field"]: c for c in changes_from_form(form, PROPOSED, PAYMENT)}
    assert set(changes) == {"payment.amount", "payment.creditor.account.iban"}
    assert changes["payment.creditor.account.iban"] == {
        "field": "payment.creditor.account.iban",
        "old": "DE89370400440532013001",
        "new": "GB82WEST12345698765432",
        "evidence": ["analyst-asserted"],
    }
