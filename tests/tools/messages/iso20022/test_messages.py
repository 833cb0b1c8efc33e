"""Message recognition and mapping across versions, envelopes and message types."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tools.messages.iso20022 import parse_xml

CBPR = SHARED_DATA / "iso20022" / "cbpr_phoughton" / "test_files"

CAMT056 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.08"><FIToFIPmtCxlReq>
<Assgnmt><Id>CXL-0001</Id><Assgnr><Agt><FinInstnId><BICFI>DEUTDEFF</BICFI></FinInstnId></Agt></Assgnr>
<Assgne><Agt><FinInstnId><BICFI>BNPAFRPP</BICFI></FinInstnId></Agt></Assgne>
<CreDtTm>2026-03-02T10:00:00Z</CreDtTm></Assgnmt>
<Undrlyg><TxInf><CxlId>CXL-TX-1</CxlId>
<OrgnlGrpInf><OrgnlMsgId>MSG-778</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>
<OrgnlInstrId>INSTR-1</OrgnlInstrId><OrgnlEndToEndId>E2E-9</OrgnlEndToEndId>
<OrgnlUETR>8a562c67-ca16-48ba-b074-65581be6f011</OrgnlUETR>
<OrgnlIntrBkSttlmAmt Ccy="EUR">1500.00</OrgnlIntrBkSttlmAmt>
<OrgnlIntrBkSttlmDt>2026-03-01</OrgnlIntrBkSttlmDt>
<CxlRsnInf><Rsn><Cd>DUPL</Cd></Rsn><AddtlInf>sent twice</AddtlInf></CxlRsnInf>
<OrgnlTxRef><Dbtr><Pty><Nm>ACME GmbH</Nm></Pty></Dbtr><Cdtr><Pty><Nm>Dupont SA</Nm></Pty></Cdtr></OrgnlTxRef>
</TxInf></Undrlyg></FIToFIPmtCxlReq></Document>"""


def _fedwire_pacs008() -> bytes:
    path = (
        SHARED_DATA
        / "iso20022"
        / "fedwire_moov"
        / ("CustomerCreditTransfer__CustomerCreditTransfer_Scenario1_Step1_pacs.008.xml")
    )
    return path.read_bytes()


def test_cancellation_request() -> None:
    extraction = parse_xml(CAMT056, "camt056.xml")
    payment = extraction.payment
    assert extraction.doc_type == "iso20022.camt.056" and payment is not None
    assert (payment.reason_code, payment.narrative) == ("DUPL", ["sent twice"])
    assert (payment.amount, payment.currency, str(payment.value_date)) == (
        Decimal("1500.00"),
        "EUR",
        "2026-03-01",
    )
    assert (payment.reference, payment.original_reference, payment.related_reference) == (
        "CXL-0001",
        "MSG-778",
        "INSTR-1",
    )
    assert payment.instructing_agent is not None and payment.instructing_agent.bic == "DEUTDEFF"
    assert payment.debtor is not None and payment.debtor.name == "ACME GmbH"
    assert not [f for f in extraction.findings if f.severity == "error"]


@pytest.mark.parametrize("version", [b"pacs.008.001.02", b"pacs.008.001.10", b"pacs.008.001.99"])
def test_any_version_maps_the_same(version: bytes, shared_data: Path) -> None:
    original = parse_xml(_fedwire_pacs008(), "v08").payment
    other = parse_xml(_fedwire_pacs008().replace(b"pacs.008.001.08", version), "other").payment
    assert other == original


def test_prefixed_namespace_and_no_namespace(shared_data: Path) -> None:
    data = _fedwire_pacs008()
    original = parse_xml(data, "default-ns").payment
    bare = data.replace(b'xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"', b"")
    assert parse_xml(bare, "no-ns").payment == original


def test_enveloped_with_app_header(shared_data: Path) -> None:
    path = CBPR / "2025" / "CBPR2025.PACS008-MinMax-0023.xml"
    extraction = parse_xml(path.read_bytes(), path.name)
    payment = extraction.payment
    assert extraction.doc_type == "iso20022.pacs.008" and payment is not None
    assert (payment.sender_bic, payment.receiver_bic) == ("BBBABEBB", "NNNDSESSXXX")
    assert (payment.amount, payment.currency) == (Decimal("2.34"), "EUR")
    fields = {f.name: f.source.xpath for f in extraction.fields}
    assert fields["payment.sender_bic"] == "/AppHdr/Fr/FIId/FinInstnId/BICFI"


def test_fi_transfer_parties_are_institutions(shared_data: Path) -> None:
    path = CBPR / "2025" / "pacs009_fi_transfer_sample.xml"
    payment = parse_xml(path.read_bytes(), path.name).payment
    assert payment is not None and payment.message_type == "pacs.009"
    assert payment.debtor is not None and payment.creditor is not None
    for party in (payment.debtor, payment.creditor):
        assert party.identifier is not None and len(party.identifier) in (8, 11)
    assert payment.currency == "JPY"


def test_initiation_first_transaction(shared_data: Path) -> None:
    path = CBPR / "2025" / "pain001_credit_initiation_sample.xml"
    payment = parse_xml(path.read_bytes(), path.name).payment
    assert payment is not None and payment.message_type == "pain.001"
    assert (payment.amount, payment.currency) == (Decimal("320000"), "AUD")  # Amt/EqvtAmt/Amt
    assert payment.debtor is not None and payment.debtor.name
    assert payment.creditor is not None and payment.creditor.name
    assert payment.value_date is not None


def test_malformed_values_become_findings() -> None:
    data = _fedwire_pacs008().replace(b">510000.74<", b">51O000.74<").replace(b">SLEV<", b">XXXX<")
    extraction = parse_xml(data, "bad-values")
    assert extraction.payment is not None
    assert extraction.payment.amount is None and extraction.payment.charge_bearer is None
    codes = {(f.code, f.field) for f in extraction.findings if f.severity == "error"}
    assert ("FIELD_FORMAT", "payment.amount") in codes
    assert ("FIELD_FORMAT", "payment.charge_bearer") in codes


def test_amount_decimals_and_bic_findings() -> None:
    data = (
        _fedwire_pacs008()
        .replace(b'Ccy="USD">510000.74<', b'Ccy="JPY">510000.74<', 1)
        .replace(b"<ClrSysMmbId>", b"<BICFI>ABCDXX12</BICFI><ClrSysMmbId>", 1)
    )
    findings = {(f.code, f.field) for f in parse_xml(data, "x").findings}
    assert ("AMOUNT_DECIMALS", "payment.amount") in findings
    assert ("BIC_INVALID", "payment.instructing_agent.bic") in findings


def test_missing_mandatory_element() -> None:
    data = _fedwire_pacs008()
    start, end = data.index(b"<Cdtr>"), data.index(b"</Cdtr>") + len(b"</Cdtr>")
    findings = parse_xml(data[:start] + data[end:], "x").findings
    assert any(
        f.code == "MANDATORY_ELEMENT" and (f.field or "").endswith("CdtTrfTxInf[1]/Cdtr") for f in findings
    )
