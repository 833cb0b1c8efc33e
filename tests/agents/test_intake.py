"""intake: one payment per case (message and payment must agree), documents-only cases, extract once."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from agents.nodes import intake as intake_module
from agents.nodes.intake import differing_fields, intake, read_payment
from tests.agents.fixtures import mt103
from tools.errors import ParseError, ValidationError


def test_a_payment_that_agrees_with_the_message_gives_the_messages_parse() -> None:
    given = {"message_type": "103", "reference": "R-1", "amount": "12500", "currency": "EUR"}
    payment, _, kind = read_payment({"message": mt103(ref="R-1"), "payment": given}, "case")
    assert kind == "fin" and payment["reference"] == "R-1" and payment["amount"] == "12500.00"
    assert payment["creditor"]["name"]  # the message's full parse, not the partial payment


def test_a_different_payment_is_refused_naming_every_differing_field() -> None:
    decoy = {
        "message_type": "103",
        "reference": "DECOY",
        "amount": "1.00",
        "currency": "EUR",
        "creditor": {"name": "Someone Else"},
    }
    with pytest.raises(ValidationError) as caught:
        read_payment({"message": mt103(ref="R-1"), "payment": decoy}, "case")
    reason = caught.value.reason
    assert "payment.reference" in reason and "payment.amount" in reason and "payment.creditor.name" in reason
    assert "payment.currency" not in reason


def test_differing_fields_compare_amounts_as_numbers() -> None:
    assert differing_fields({"amount": "100"}, {"amount": "100.00"}) == []
    assert differing_fields({"amount": "100"}, {"amount": "100.01"}) == ["amount"]
    assert differing_fields({"a": {"b": ["x"]}}, {"a": {"b": ["x", "y"]}}) == ["a.b[1]"]


def test_a_message_without_a_payment_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="holds no payment"):
        read_payment({"message": ":20:R\n"}, "case")


def test_a_documents_only_case_takes_the_payment_from_a_document() -> None:
    documents = [
        {"doc_type": "remittance_advice"},
        {"doc_type": "swift.mt103", "payment": {"reference": "D"}},
    ]
    payment, _, kind = read_payment({}, "case", documents)
    assert payment == {"reference": "D"} and kind == "document"
    with pytest.raises(ValidationError, match="a document from which a payment can be read"):
        read_payment({}, "case", documents[:1])


def test_intake_uses_the_carried_extractions_and_reads_nothing_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("extracted a second time")

    monkeypatch.setattr(intake_module, "extract_bytes", refuse)
    carried = {
        "payment": {"reference": "CARRIED"},
        "findings": [],
        "message_format": "fin",
        "documents": [{"doc_type": "remittance_advice", "source": "a.pdf"}],
        "document_errors": [{"name": "b.pdf", "reason": "over the limit"}],
    }
    case = {
        "exception_code": "AC01",
        "message": mt103(),
        "documents": [{"name": "a.pdf", "content_base64": base64.b64encode(b"%PDF-1.4").decode()}],
        "intake": carried,
    }
    state = intake({"case": case})
    assert state["payment"] == {"reference": "CARRIED"} and state["message_format"] == "fin"
    assert (
        state["documents"] == carried["documents"] and state["document_errors"] == carried["document_errors"]
    )
