"""Reason codes and investigation drafts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tools.errors import ValidationError
from tools.payments import codes
from tools.payments.codes import lookup_reason_code
from tools.payments.investigation import draft_investigation

PAYMENT = {
    "message_type": "103",
    "reference": "PAYDUP0001",
    "uetr": "3f2b8c1e-6a4d-4e1f-9b7a-2c5d8e9f0a11",
    "amount": "48250.00",
    "currency": "EUR",
    "value_date": "2026-11-16",
    "sender_bic": "GEBABEBB",
    "receiver_bic": "HYVEDEMMXXX",
    "creditor": {"name": "Rheinland Chemie AG {4:evil}"},
}


def test_reason_code_lookup() -> None:
    result = lookup_reason_code(" ac04")
    assert result["found"] and result["code"] == "AC04" and "closed" in result["definition"].lower()
    assert result["ref"] == f"code:{result['codeset']}:AC04"
    assert lookup_reason_code("ZZ99") == {"found": False, "code": "ZZ99"}
    with pytest.raises(ValidationError):
        lookup_reason_code("not a code!")


def test_reason_code_fallback_reads_shared_codesets(
    shared_data: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(code: str) -> dict:
        raise ValidationError("reason-code table unreadable (missing)", source="reason_codes.json")

    monkeypatch.setattr(codes.retrieval_codes, "lookup_reason_code", unreadable)
    result = lookup_reason_code("AM05")
    assert result["found"] and result["codeset"] == "status" and result["definition"] == "Duplication"
    assert result["ref"] == "code:status:AM05"


def test_mt199_draft_is_swift_text_that_reparses() -> None:
    from tools.messages.swift import parse_fin

    draft = draft_investigation("mt199", "Beneficiary account closed; please advise new details.", PAYMENT)
    text = draft["text"]
    assert draft["ref"] == "draft:mt199:PAYDUP0001"
    assert text.startswith("{1:F01HYVEDEMM") and "{2:I199GEBABEBB" in text  # we query the sender
    body = text.split("{4:", 1)[1]
    assert "{" not in body and "}" not in body.rstrip("}")  # braces from the name cannot open a block
    assert all(len(line) <= 50 for line in body.splitlines())
    parsed = parse_fin(text, "draft")[0]
    assert parsed.payment is not None and parsed.payment.message_type == "199"
    assert parsed.payment.related_reference == "PAYDUP0001"
    assert parsed.payment.reference == draft["reference"] and draft["reference"].startswith("RD")
    assert "UETR 3f2b8c1e-6a4d-4e1f-9b7a-2c5d8e9f0a11" in parsed.payment.narrative
    assert "AMOUNT EUR 48250,00 VALUE 2026-11-16" in parsed.payment.narrative
    again = draft_investigation("mt199", "Beneficiary account closed; please advise new details.", PAYMENT)
    assert again["reference"] == draft["reference"]


def test_mt199_without_bics_is_a_text_block() -> None:
    draft = draft_investigation("mt199", "Please confirm", {"reference": "R1"})
    assert draft["text"].startswith("{4:\n:20:RD") and ":21:R1\n" in draft["text"]


def test_camt056_fields() -> None:
    when = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    draft = draft_investigation("camt.056", "DUPL", PAYMENT, created_at=when)
    fields = draft["fields"]
    assert draft["ref"] == "draft:camt.056:PAYDUP0001"
    assert fields["cancellation_reason"] == {"code": "DUPL", "additional_information": []}
    assert fields["underlying"]["original_uetr"] == PAYMENT["uetr"]
    assert fields["assignment"]["assigner_bic"] == "HYVEDEMM"
    assert fields["assignment"]["creation_datetime"] == "2026-11-20T09:30:00+00:00"


def test_camt029_fields() -> None:
    draft = draft_investigation(
        "camt.029", "Funds already credited to the beneficiary", PAYMENT, reason_code="ARDT"
    )
    status = draft["fields"]["cancellation_details"]["cancellation_status_reason"]
    assert draft["fields"]["status"]["confirmation"] == "RJCR" and status["code"] == "ARDT"


def test_bad_kind_is_typed_error() -> None:
    with pytest.raises(ValidationError, match="kind"):
        draft_investigation("mt999", "x", PAYMENT)
    with pytest.raises(ValidationError, match="payment"):
        draft_investigation("mt199", "x", ["not", "a", "payment"])  # type: ignore[arg-type]
