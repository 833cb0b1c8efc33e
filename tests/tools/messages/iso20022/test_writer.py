"""write_pacs008: documents that re-parse to the same payment."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATA
from tools.errors import ValidationError
from tools.messages.iso20022 import parse_xml, write_pacs008
from tools.messages.model import Account, Agent, Party, Payment, RemittanceInformation

FEDWIRE = SHARED_DATA / "iso20022" / "fedwire_moov"
PACS008 = sorted(FEDWIRE.glob("*pacs.008*.xml")) if FEDWIRE.is_dir() else []
CBPR = SHARED_DATA / "iso20022" / "cbpr_phoughton" / "test_files"
CBPR_PACS008 = sorted(CBPR.glob("*/*pacs008*.xml")) if CBPR.is_dir() else []


def _round_trip(payment: Payment) -> Payment:
    again = parse_xml(write_pacs008(payment), "written.xml")
    assert again.doc_type == "iso20022.pacs.008" and again.payment is not None
    return again.payment


@pytest.mark.parametrize("path", PACS008 + CBPR_PACS008, ids=lambda p: p.stem[-60:])
def test_round_trip_of_parsed_payments(path: Path, shared_data: Path) -> None:
    original = parse_xml(path.read_bytes(), path.name).payment
    assert original is not None
    assert _round_trip(original) == original


def test_written_document_is_pacs008_v08_and_clean(shared_data: Path) -> None:
    path = FEDWIRE / "CustomerCreditTransfer__CustomerCreditTransfer_Scenario1_Step1_pacs.008.xml"
    original = parse_xml(path.read_bytes(), path.name)
    xml = write_pacs008(original.payment) if original.payment else b""
    assert b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08" in xml
    assert b"<AppHdr" not in xml  # Fedwire sample carries no sender/receiver BIC
    again = parse_xml(xml, "written.xml")
    assert {f.code for f in again.findings if f.severity == "error"} == set()


def test_header_written_when_bics_known() -> None:
    payment = Payment(
        message_type="pacs.008",
        reference="REF-1",
        end_to_end_id="E2E-1",
        uetr="8a562c67-ca16-48ba-b074-65581be6f011",
        amount=Decimal("1234.50"),
        currency="EUR",
        value_date="2026-01-15",
        charge_bearer="SHAR",
        # Intended: the same kind of payment as the MT writer's test, written for this format.
        sender_bic="DEUTDEFFXXX",
        receiver_bic="BNPAFRPPXXX",
        debtor=Party(
            name="ACME GmbH",
            address_lines=["Hauptstr. 1"],
            town="Berlin",
            country="DE",
            account=Account(iban="DE89370400440532013000"),
        ),
        creditor=Party(
            name="Dupont SA", country="FR", identifier="529900T8BM49AURSDO55", account=Account(other="12345")
        ),
        debtor_agent=Agent(bic="DEUTDEFFXXX"),
        creditor_agent=Agent(bic="BNPAFRPPXXX", clearing_id="30004"),
        remittance_information=RemittanceInformation(unstructured=["Invoice 42"], references=["INV-42"]),
        purpose="SUPP",
        instruction_codes=["PHOB"],
        sender_to_receiver_information=["/ACC/urgent"],
        regulatory_reporting=["DE/export goods"],
        exchange_rate=Decimal("1.0831"),
        instructed_amount=Decimal("1337.11"),
        instructed_currency="USD",
    )
    xml = write_pacs008(payment)
    assert b"<AppHdr" in xml and b"<MsgDefIdr>pacs.008.001.08</MsgDefIdr>" in xml
    assert _round_trip(payment) == payment


def test_control_characters_refused() -> None:
    payment = Payment(message_type="pacs.008", amount=Decimal(1), currency="EUR", debtor=Party(name="a\x00b"))
    with pytest.raises(ValidationError, match="Nm"):
        write_pacs008(payment)


_TEXT = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=70)
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=60, deadline=None)
@given(
    name=_TEXT,
    reference=_TEXT,
    lines=st.lists(_TEXT, max_size=3),
    cents=st.integers(min_value=0, max_value=10**13),
)
def test_any_text_and_amount_round_trip(name: str, reference: str, lines: list[str], cents: int) -> None:
    payment = Payment(
        message_type="pacs.008",
        reference=reference,
        end_to_end_id=reference,
        amount=Decimal(cents).scaleb(-2),
        currency="EUR",
        charge_bearer="SHAR",
        debtor=Party(name=name, address_lines=lines),
        creditor=Party(name=name),
        remittance_information=RemittanceInformation(unstructured=[name]),
    )
    assert _round_trip(payment) == payment
