"""write_mt103 / write_mt199: FIN text that parse_fin reads back to the same values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tools.errors import ValidationError
from tools.messages.model import Account, Agent, Charge, Party, Payment, RemittanceInformation
from tools.messages.swift import parse_fin, write_mt103, write_mt199

PROWIDE = SHARED_DATA / "swift_mt" / "prowide"


def _clean_mt103s() -> list[Path]:
    found = []
    for path in sorted(PROWIDE.glob("prowide_103_*.fin")) if PROWIDE.is_dir() else []:
        results = parse_fin(path.read_bytes().decode("utf-8", errors="replace"), path.name)
        if len(results) == 1 and results[0].doc_type == "swift.mt103" and not results[0].has_errors:
            found.append(path)
    return found


CLEAN = _clean_mt103s()


def test_enough_clean_messages(shared_data: Path) -> None:
    assert len(CLEAN) >= 15


@pytest.mark.parametrize("path", CLEAN, ids=[p.stem for p in CLEAN])
def test_round_trip_prowide(path: Path, shared_data: Path) -> None:
    [original] = parse_fin(path.read_text(encoding="utf-8", errors="replace"), path.name)
    assert original.payment is not None
    text = write_mt103(original.payment)
    [again] = parse_fin(text, "written.fin")
    assert again.doc_type == "swift.mt103"
    assert again.payment == original.payment
    assert not [f for f in again.findings if f.severity == "error"]


def test_round_trip_structured_parties_and_charges() -> None:
    payment = Payment(
        message_type="103",
        reference="INV-2024-0001",
        uetr="eb6305c9-1f7f-49de-aed0-16487c27b42d",
        amount=Decimal("6740.91"),
        currency="EUR",
        value_date=date(2024, 3, 1),
        instructed_amount=Decimal("6750.91"),
        instructed_currency="EUR",
        bank_operation_code="CRED",
        charge_bearer="CRED",
        charges=[Charge(amount=Decimal("10"), currency="EUR", kind="sender")],
        sender_bic="DEUTDEFFXXX",
        receiver_bic="COBADEFF",
        debtor=Party(
            name="ACME GMBH",
            address_lines=["HAUPTSTRASSE 1"],
            country="DE",
            town="BERLIN",
            account=Account(iban="DE89370400440532013000"),
        ),
        creditor=Party(name="JOHN DOE", address_lines=["1 HIGH STREET"], account=Account(other="12345678")),
        creditor_agent=Agent(bic="COBADEFFXXX"),
        intermediary_agent=Agent(clearing_id="FW021000018", name="SOME BANK"),
        remittance_information=RemittanceInformation(unstructured=["/INV/2001"], references=["2001"]),
        sender_to_receiver_information=["/ACC/INSTRUCTION"],
    )
    text = write_mt103(payment)
    assert "{3:{121:eb6305c9-1f7f-49de-aed0-16487c27b42d}}" in text
    assert ":50F:/DE89370400440532013000\n1/ACME GMBH\n2/HAUPTSTRASSE 1\n3/DE/BERLIN" in text
    assert ":71A:BEN" in text and ":71F:EUR10," in text
    [again] = parse_fin(text, "w")
    assert again.payment is not None
    assert again.payment.model_dump(exclude={"sender_bic"}) == payment.model_dump(exclude={"sender_bic"})
    assert again.payment.sender_bic == "DEUTDEFF"  # a XXX branch is the head office
    assert again.payment.debtor is not None and again.payment.debtor.country == "DE"


def test_write_mt103_needs_the_essentials() -> None:
    with pytest.raises(ValidationError, match="amount"):
        write_mt103(Payment(message_type="103", reference="X", currency="EUR", value_date=date(2024, 1, 1)))
    with pytest.raises(ValidationError, match="sender_bic"):
        write_mt103(
            Payment(
                message_type="103",
                reference="X",
                amount=Decimal(1),
                currency="EUR",
                value_date=date(2024, 1, 1),
                receiver_bic="COBADEFF",
            )
        )


def test_write_mt199() -> None:
    text = write_mt199(
        "DEUTDEFF",
        "COBADEFFXXX",
        "Q-1",
        "REF123",
        ["Please confirm the beneficiary account for our payment ref REF123 of 1 March.", "Grüße"],
    )
    [result] = parse_fin(text, "q.fin")
    assert result.doc_type == "swift.mt199"
    assert result.payment is not None
    assert (result.payment.reference, result.payment.related_reference) == ("Q-1", "REF123")
    assert " ".join(result.payment.narrative).startswith("Please confirm the beneficiary account")
    assert result.payment.narrative[-1] == "Grusse"  # folded into the SWIFT X character set
    assert not [f for f in result.findings if f.severity == "error"]
    assert all(len(line) <= 50 for line in result.payment.narrative)
    with pytest.raises(ValidationError):
        write_mt199("DEUTDEFF", "COBADEFF", "Q-1", None, [])
