"""Hand-written FIN messages: framing variants, mappings per type, and validation findings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tools.messages.model import Extraction
from tools.messages.swift import parse_fin

HEAD = "{1:F01DEUTDEFFAXXX0000000000}{2:I103COBADEFFXXXXN}"


def mt103(body: str, head: str = HEAD, block3: str = "") -> str:
    return f"{head}{block3}{{4:\n{body.strip()}\n-}}"


BASIC = """
:20:REF-1
:23B:CRED
:32A:240301EUR1000,50
:33B:EUR1000,50
:50K:/DE89370400440532013000
ACME GMBH
HAUPTSTRASSE 1
:59:/DE89370400440532013000
JOHN DOE
:70:/INV/2001 PAYMENT
/RFB/ABC-7
:71A:SHA
"""


def codes(result: Extraction) -> set[str]:
    return {f.code for f in result.findings}


def only(text: str) -> Extraction:
    [result] = parse_fin(text, "test.fin")
    return result


def test_clean_mt103_has_no_errors_and_full_confidence() -> None:
    result = only(mt103(BASIC, block3="{3:{121:eb6305c9-1f7f-49de-aed0-16487c27b42d}}"))
    assert not result.has_errors, result.findings
    payment = result.payment
    assert payment is not None
    assert payment.uetr == "eb6305c9-1f7f-49de-aed0-16487c27b42d"
    assert payment.amount == Decimal("1000.50") and payment.currency == "EUR"
    assert payment.debtor is not None and payment.debtor.account is not None
    assert payment.debtor.account.iban == "DE89370400440532013000"
    assert payment.debtor.address_lines == ["HAUPTSTRASSE 1"]
    assert payment.remittance_information is not None
    assert payment.remittance_information.references == ["2001 PAYMENT", "ABC-7"]
    assert payment.charge_bearer == "SHAR"
    assert {f.confidence for f in result.fields} == {1.0}
    names = {f.name for f in result.fields}
    assert {"payment.amount", "payment.debtor.account.iban", "payment.uetr", "payment.sender_bic"} <= names


def test_crlf_and_lf_read_the_same() -> None:
    lf = only(mt103(BASIC))
    crlf = only(mt103(BASIC).replace("\n", "\r\n"))
    assert lf.payment == crlf.payment


def test_rje_and_concatenated_files_give_one_extraction_per_message() -> None:
    one, two = mt103(BASIC), mt103(BASIC.replace("REF-1", "REF-2"))
    for text in (f"{one}\n$\n{two}", f"{one}$\r\n{two}", one + two):
        results = parse_fin(text, "batch.fin")
        assert [r.payment.reference for r in results if r.payment] == ["REF-1", "REF-2"]


def test_ack_and_nak_around_messages() -> None:
    ack = "{1:F21DEUTDEFFAXXX0000000000}{4:{177:2403011200}{451:0}}"
    nak = "{1:F21DEUTDEFFAXXX0000000000}{4:{177:2403011200}{451:1}{405:T27}}"
    [acked] = parse_fin(ack + mt103(BASIC), "a.fin")
    assert "ACK" in codes(acked) and acked.doc_type == "swift.mt103"
    [nakked] = parse_fin(nak + mt103(BASIC), "n.fin")
    nak_finding = next(f for f in nakked.findings if f.code == "NAK")
    assert nak_finding.severity == "error" and "T27" in nak_finding.message
    [alone] = parse_fin(ack, "ack.fin")
    assert alone.doc_type == "swift.ack"


def test_headerless_text_block_is_read_by_its_fields() -> None:
    result = only(BASIC)
    assert result.doc_type == "swift.mt103"
    assert "MESSAGE_TYPE_INFERRED" in codes(result)
    assert result.payment is not None and result.payment.amount == Decimal("1000.50")


def test_structured_50f_and_59f() -> None:
    body = BASIC.replace(
        ":50K:/DE89370400440532013000\nACME GMBH\nHAUPTSTRASSE 1",
        ":50F:/DE89370400440532013000\n1/ACME\n1/GMBH\n2/HAUPTSTRASSE 1\n3/DE/BERLIN",
    ).replace(
        ":59:/DE89370400440532013000\nJOHN DOE", ":59F:/12345\n1/JOHN DOE\n2/1 HIGH STREET\n3/GB/LONDON"
    )
    payment = only(mt103(body)).payment
    assert payment is not None and payment.debtor is not None and payment.creditor is not None
    assert (
        payment.debtor.name,
        payment.debtor.address_lines,
        payment.debtor.country,
        payment.debtor.town,
    ) == (
        "ACME GMBH",
        ["HAUPTSTRASSE 1"],
        "DE",
        "BERLIN",
    )
    assert (payment.creditor.name, payment.creditor.country) == ("JOHN DOE", "GB")
    assert payment.creditor.account is not None and payment.creditor.account.other == "12345"


def test_iban_checksum_and_bic_findings_point_at_fields() -> None:
    body = BASIC.replace(":59:/DE89370400440532013000", ":59:/DE89370400440532013001") + ":57A:ABCDDEFF\n"
    result = only(mt103(body))
    iban = next(f for f in result.findings if f.code == "IBAN_CHECKSUM")
    assert iban.field == "payment.creditor.account.iban" and iban.severity == "error"
    unknown = next(f for f in result.findings if f.code == "BIC_UNKNOWN")
    assert unknown.field == "payment.creditor_agent.bic" and unknown.severity == "warning"
    confidence = {f.name: f.confidence for f in result.fields}
    assert confidence["payment.creditor.account.iban"] < confidence["payment.creditor.name"] == 1.0
    bad_bic = only(mt103(BASIC + ":57A:12345\n"))
    assert any(f.code == "BIC_INVALID" and f.field == "payment.creditor_agent.bic" for f in bad_bic.findings)


def test_formats_currencies_decimals_and_charset() -> None:
    cases = {
        ":32A:240230EUR1000,50": "FIELD_FORMAT",  # no 30 February in a value date
        ":32A:240301XYZ1000,50": "CURRENCY_UNKNOWN",
        ":32A:240301JPY1000,50": "AMOUNT_DECIMALS",
        ":32A:2403011000": "FIELD_FORMAT",
        ":32A:240301EUR1000.50": "FIELD_FORMAT",
    }
    for field, code in cases.items():
        result = only(mt103(BASIC.replace(":32A:240301EUR1000,50", field)))
        assert code in codes(result), field
    charset = only(mt103(BASIC.replace("JOHN DOE", "JOSÉ DOE")))
    finding = next(f for f in charset.findings if f.code == "CHARSET")
    assert finding.field == "payment.creditor"


def test_mandatory_fields() -> None:
    result = only(mt103(BASIC.replace(":71A:SHA\n", "").replace(":23B:CRED\n", "")))
    missing = {f.field for f in result.findings if f.code == "MANDATORY_FIELD"}
    assert missing == {"payment.charge_bearer", "payment.bank_operation_code"}


def test_network_rules() -> None:
    c1 = only(mt103(BASIC.replace(":33B:EUR1000,50", ":33B:USD1100,")))
    assert any(f.code == "NETWORK_RULE_C1" and f.field == "payment.exchange_rate" for f in c1.findings)
    with_rate = only(mt103(BASIC.replace(":33B:EUR1000,50", ":33B:USD1100,\n:36:0,9095")))
    assert "NETWORK_RULE_C1" not in codes(with_rate)
    assert with_rate.payment is not None and with_rate.payment.exchange_rate == Decimal("0.9095")
    c2 = only(mt103(BASIC.replace(":33B:EUR1000,50\n", "")))
    assert "NETWORK_RULE_C2" in codes(c2)  # DE to DE without 33B
    c3 = only(mt103(BASIC.replace(":23B:CRED", ":23B:SSTD\n:23E:HOLD")))
    assert "NETWORK_RULE_C3" in codes(c3)
    c5 = only(mt103(BASIC + ":56A:COBADEFFXXX\n"))
    assert "NETWORK_RULE_C5" in codes(c5)
    c7 = only(mt103(BASIC.replace(":71A:SHA", ":71A:OUR\n:71F:EUR10,")))
    assert "NETWORK_RULE_C7" in codes(c7)
    ben = only(mt103(BASIC.replace(":71A:SHA", ":71A:BEN\n:71F:EUR10,")))
    assert not {"NETWORK_RULE_C7", "NETWORK_RULE_C8"} & codes(ben)
    assert ben.payment is not None and ben.payment.charge_bearer == "CRED"
    assert [(c.amount, c.kind) for c in ben.payment.charges] == [(Decimal("10"), "sender")]
    stp = only(mt103(BASIC + ":57D:SOME BANK\nLONDON\n", block3="{3:{119:STP}}"))
    assert "NETWORK_RULE_STP" in codes(stp)
    remit = only(mt103(BASIC, block3="{3:{119:REMIT}}"))
    assert "NETWORK_RULE_REMIT" in codes(remit)


def test_mt202cov_and_fi_parties() -> None:
    text = (
        "{1:F01DEUTDEFFAXXX0000000000}{2:I202CHASUS33XXXXN}{3:{119:COV}}{4:\n"
        ":20:COV-1\n:21:REF-1\n:32A:240301USD5000,\n:52A:DEUTDEFF\n:57A:CITIUS33\n:58A:/123\nCHASUS33\n"
        ":50K:/111\nACME GMBH\n:59:/222\nJOHN DOE\n:70:/INV/9\n:33B:USD5000,\n-}"
    )
    result = only(text)
    assert result.doc_type == "swift.mt202cov"
    payment = result.payment
    assert payment is not None and payment.message_type == "202COV"
    assert payment.debtor is not None and payment.debtor.identifier == "DEUTDEFF"
    assert payment.creditor is not None and payment.creditor.identifier == "CHASUS33"
    assert payment.creditor_agent is not None and payment.creditor_agent.bic == "CITIUS33"
    assert payment.ultimate_debtor is not None and payment.ultimate_debtor.name == "ACME GMBH"
    assert payment.ultimate_creditor is not None and payment.ultimate_creditor.name == "JOHN DOE"
    assert payment.remittance_information is not None and payment.remittance_information.references == ["9"]


def test_confirmations_and_investigations() -> None:
    head = "{1:F01DEUTDEFFAXXX0000000000}{2:I%sCOBADEFFXXXXN}{4:\n"
    mt900 = only(head % "900" + ":20:C1\n:21:REF-1\n:25:123456\n:32A:240301EUR10,\n-}")
    assert mt900.doc_type == "swift.mt900" and mt900.payment is not None
    assert mt900.payment.debtor is not None and mt900.payment.debtor.account is not None
    assert mt900.payment.debtor.account.other == "123456"
    mt910 = only(head % "910" + ":20:C2\n:21:REF-1\n:25:654321\n:32A:240301EUR10,\n:52A:DEUTDEFF\n-}")
    assert mt910.payment is not None and mt910.payment.creditor is not None
    assert mt910.payment.debtor_agent is not None and mt910.payment.debtor_agent.bic == "DEUTDEFF"
    mt192 = only(head % "192" + ":20:CXL-1\n:21:REF-1\n:11S:103\n240301\n:79:PLEASE CANCEL\n-}")
    assert mt192.payment is not None and mt192.payment.original_reference == "REF-1"
    assert mt192.payment.narrative == ["PLEASE CANCEL"]
    mt196 = only(head % "196" + ":20:ANS-1\n:21:CXL-1\n:76:/CNCL/\n-}")
    assert mt196.doc_type == "swift.mt196" and mt196.payment is not None
    assert mt196.payment.narrative == ["/CNCL/"]
    other = only(head % "101" + ":20:X\n:28D:1/1\n-}")
    assert other.doc_type == "swift.mt101" and other.payment is None
    assert [f.severity for f in other.findings if f.code == "NO_PAYMENT_MAPPING"] == ["info"]


def test_mt940_entries_reversals_and_information() -> None:
    text = (
        "{1:F01DEUTDEFFAXXX0000000000}{2:O9401200240102COBADEFFAXXX00000000002401021200N}{4:\n"
        ":20:STMT-1\n:25:DE89370400440532013000\n:28C:12/3\n:60F:D231231EUR100,00\n"
        ":61:2312310102D50,00NTRFINV-1//BANK-1\nSUPPLEMENTARY\n:86:PAYMENT INV-1\nSECOND LINE\n"
        ":61:240102RCR25,NCHKNONREF\n:61:240102RD5,NMSCNONREF\n"
        ":62F:C240102EUR20,\n:64:C240102EUR20,\n:86:STATEMENT NOTE\n-}"
    )
    result = only(text)
    statement = result.statement
    assert result.doc_type == "swift.mt940" and statement is not None
    assert (statement.statement_id, statement.sequence_number) == ("12", "3")
    assert statement.account is not None and statement.account.iban == "DE89370400440532013000"
    assert [(b.kind, b.amount) for b in statement.balances] == [
        ("opening", Decimal("-100.00")),
        ("closing", Decimal("20")),
        ("closing_available", Decimal("20")),
    ]
    first, reversal, back = statement.entries
    assert (first.value_date, first.booking_date) == (date(2023, 12, 31), date(2024, 1, 2))
    assert (first.credit_debit, first.amount, first.currency) == ("DBIT", Decimal("50.00"), "EUR")
    assert (first.transaction_code, first.customer_reference, first.bank_reference) == (
        "NTRF",
        "INV-1",
        "BANK-1",
    )
    assert first.supplementary_details == "SUPPLEMENTARY"
    assert first.information == ["PAYMENT INV-1", "SECOND LINE"]
    assert (reversal.credit_debit, reversal.reversal, reversal.funds_code) == ("DBIT", True, "R")
    assert (back.credit_debit, back.reversal) == ("CRDT", True)
    assert statement.information == ["STATEMENT NOTE"]
    assert statement.servicer_bic == "COBADEFF"


def test_writer_output_is_accepted_by_the_extract_entry_point() -> None:
    from tools.extract import extract_bytes

    [result] = extract_bytes(mt103(BASIC).encode(), "x.fin")
    assert result.doc_type == "swift.mt103"
