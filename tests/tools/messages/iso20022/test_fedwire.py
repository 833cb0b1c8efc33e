"""Fedwire ISO 20022 samples (moov-io/wire20022): every file parses; pacs.008 values match the XML.

Expected values are read independently with a plain namespace-qualified ElementTree lookup, so these
tests do not share code with the parser under test.
"""

from __future__ import annotations

import xml.etree.ElementTree as StdET
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tools.messages.iso20022 import parse_xml
from tools.messages.model import Agent, Party

FEDWIRE = SHARED_DATA / "iso20022" / "fedwire_moov"
ALL_FILES = sorted(FEDWIRE.glob("*.xml")) if FEDWIRE.is_dir() else []
PACS008 = [p for p in ALL_FILES if p.name.endswith(("pacs.008.xml", "pacs.008_1.xml", "pacs.008_2.xml"))]


def _reader(path: Path) -> tuple[StdET.Element, dict[str, str]]:
    root = StdET.parse(path).getroot()
    ns = root.tag[1:].split("}")[0]
    return root, {"p": ns}


def _text(el: StdET.Element | None) -> str | None:
    return el.text.strip() if el is not None and el.text else None


def _check_party(
    got: Party | None, block: StdET.Element | None, account: StdET.Element | None, ns: dict[str, str]
) -> None:
    if block is None:
        assert got is None
        return
    assert got is not None
    assert got.name == _text(block.find("p:Nm", ns))
    assert got.country == _text(block.find("p:PstlAdr/p:Ctry", ns))
    assert got.town == _text(block.find("p:PstlAdr/p:TwnNm", ns))
    if account is not None:
        iban = _text(account.find("p:Id/p:IBAN", ns))
        other = _text(account.find("p:Id/p:Othr/p:Id", ns))
        assert got.account is not None
        assert (got.account.iban, got.account.other) == (iban, None if iban else other)


# Intended same shape as _check_party: each checks its own element.
def _check_agent(got: Agent | None, block: StdET.Element | None, ns: dict[str, str]) -> None:
    if block is None:
        assert got is None
        return
    assert got is not None
    assert got.bic == _text(block.find("p:FinInstnId/p:BICFI", ns))
    assert got.clearing_id == _text(block.find("p:FinInstnId/p:ClrSysMmbId/p:MmbId", ns))
    assert got.name == _text(block.find("p:FinInstnId/p:Nm", ns))


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_every_file_parses(path: Path, iso_dir: Path) -> None:
    extraction = parse_xml(path.read_bytes(), path.name)
    assert extraction.doc_type.startswith("iso20022.")
    # the message name in the file name (e.g. "_pacs.008") is the doc type's
    assert extraction.doc_type.removeprefix("iso20022.") in path.stem


@pytest.mark.parametrize("path", PACS008, ids=lambda p: p.stem)
def test_pacs008_matches_independent_read(path: Path, iso_dir: Path) -> None:
    root, ns = _reader(path)
    tx = root.find("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf", ns)
    assert tx is not None
    extraction = parse_xml(path.read_bytes(), path.name)
    payment = extraction.payment
    assert extraction.doc_type == "iso20022.pacs.008" and payment is not None
    amount = tx.find("p:IntrBkSttlmAmt", ns)
    assert amount is not None
    assert payment.amount == Decimal(_text(amount) or "")
    assert payment.currency == amount.get("Ccy")
    assert str(payment.value_date) == _text(tx.find("p:IntrBkSttlmDt", ns))
    assert payment.end_to_end_id == _text(tx.find("p:PmtId/p:EndToEndId", ns))
    assert payment.uetr == _text(tx.find("p:PmtId/p:UETR", ns))
    assert payment.reference == _text(root.find("p:FIToFICstmrCdtTrf/p:GrpHdr/p:MsgId", ns))
    _check_party(payment.debtor, tx.find("p:Dbtr", ns), tx.find("p:DbtrAcct", ns), ns)
    _check_party(payment.creditor, tx.find("p:Cdtr", ns), tx.find("p:CdtrAcct", ns), ns)
    for role, tag in (
        ("debtor_agent", "DbtrAgt"),
        ("creditor_agent", "CdtrAgt"),
        ("instructing_agent", "InstgAgt"),
        ("instructed_agent", "InstdAgt"),
        ("intermediary_agent", "IntrmyAgt1"),
    ):
        _check_agent(getattr(payment, role), tx.find(f"p:{tag}", ns), ns)
    fields = {f.name: f for f in extraction.fields}
    assert (
        fields["payment.amount"].source.xpath == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt"
    )
    assert fields["payment.amount"].value == _text(amount)


def test_hand_checked_scenario1(iso_dir: Path) -> None:
    path = (
        iso_dir
        / "fedwire_moov"
        / "CustomerCreditTransfer__CustomerCreditTransfer_Scenario1_Step1_pacs.008.xml"
    )
    payment = parse_xml(path.read_bytes(), path.name).payment
    assert payment is not None
    assert (payment.amount, payment.currency, str(payment.value_date)) == (
        Decimal("510000.74"),
        "USD",
        "2025-03-10",
    )
    assert payment.charge_bearer == "SLEV"
    assert payment.instruction_id == "Scenario01InstrId001"
    assert payment.debtor is not None and payment.debtor.name == "Corporation A"
    assert payment.debtor.address_lines == [
        "Avenue of the Fountains 167565, Suite D110",
        "85268 Fountain Hills, AZ",
    ]
    assert (payment.debtor.country, payment.debtor.post_code) == ("US", "85268")
    assert payment.debtor.account is not None and payment.debtor.account.other == "5647772655"
    assert payment.creditor is not None and payment.creditor.name == "Corporation B"
    assert payment.debtor_agent == Agent(
        clearing_id="011104238", name="Bank A", address_lines=["Avenue A 66", "60532 Lisle, IL"], country="US"
    )
    assert payment.creditor_agent is not None and payment.creditor_agent.clearing_id == "021040078"
    assert payment.remittance_information is not None
    assert payment.remittance_information.references == ["INV34563"]


def test_hand_checked_variation6_iban_and_purpose(iso_dir: Path) -> None:
    path = iso_dir / "fedwire_moov" / "CustomerCreditTransfer__CustomerCreditTransfer_Variation6_pacs.008.xml"
    extraction = parse_xml(path.read_bytes(), path.name)
    payment = extraction.payment
    assert payment is not None
    assert payment.intermediary_agent is not None and payment.intermediary_agent.bic == "BANYBRRJ"
    assert payment.purpose == "INSC"
    assert payment.remittance_information is not None
    assert payment.remittance_information.unstructured == ["Insurance Benefit/Policy XXAB9876/$500000.00"]
    assert payment.creditor is not None and payment.creditor.account is not None
    assert payment.creditor.account.iban == "BR1800360305000010009795493C1"
    # the debtor IBAN in this sample (BE34001216371411) fails the ISO 13616 check digits
    codes = {(f.code, f.field) for f in extraction.findings}
    assert ("IBAN_CHECKSUM", "payment.debtor.account.iban") in codes


def test_return_maps_reason_and_original_references(iso_dir: Path) -> None:
    path = iso_dir / "fedwire_moov" / "PaymentReturn__PaymentReturn_Scenario1_Step4_pacs.004.xml"
    extraction = parse_xml(path.read_bytes(), path.name)
    payment = extraction.payment
    assert extraction.doc_type == "iso20022.pacs.004" and payment is not None
    assert (payment.amount, payment.currency) == (Decimal("151000.74"), "USD")
    assert payment.reason_code == "DUPL"
    assert payment.original_reference == "20250310B1QDRCQR000902"
    assert payment.related_reference == "Scenario01InstrId001"
    assert payment.end_to_end_id == "Scenario01EtoEId001"
    assert payment.uetr == "8a562c67-ca16-48ba-b074-65581be6f011"


@pytest.mark.parametrize(
    "path", [p for p in ALL_FILES if p.name.endswith("pacs.002.xml")], ids=lambda p: p.stem
)
def test_status_report_status_matches(path: Path, iso_dir: Path) -> None:
    root, ns = _reader(path)
    payment = parse_xml(path.read_bytes(), path.name).payment
    assert payment is not None and payment.message_type == "pacs.002"
    status = _text(root.find("p:FIToFIPmtStsRpt/p:TxInfAndSts/p:TxSts", ns))
    assert payment.status == status
    rsn = "p:FIToFIPmtStsRpt/p:TxInfAndSts/p:StsRsnInf/p:Rsn"
    reason = _text(root.find(f"{rsn}/p:Cd", ns)) or _text(root.find(f"{rsn}/p:Prtry", ns))
    assert payment.reason_code == reason


def test_investigation_resolution_status(iso_dir: Path) -> None:
    path = iso_dir / "fedwire_moov" / "ReturnRequestResponse__Paymentreturn_Scenario1_Step3_camt.029.xml"
    payment = parse_xml(path.read_bytes(), path.name).payment
    assert payment is not None and payment.message_type == "camt.029"
    assert payment.status == "CNCL"
    assert payment.original_reference == "20250310B1QDRCQR000400"
    assert payment.reference == "20250310B1QDRCQR000402"


def test_unmapped_message_gets_info_finding(iso_dir: Path) -> None:
    path = (
        iso_dir / "fedwire_moov" / "AccountReportingRequest__AccountReportingRequest_Step1_camt.060_ETOT.xml"
    )
    extraction = parse_xml(path.read_bytes(), path.name)
    assert extraction.doc_type == "iso20022.camt.060"
    assert extraction.payment is None and extraction.statement is None
    assert [f.severity for f in extraction.findings if f.code == "NO_PAYMENT_MAPPING"] == ["info"]
