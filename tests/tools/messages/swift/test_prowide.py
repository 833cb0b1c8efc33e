"""Every prowide FIN message parses; MT103/MT202/MT940/MT950 yield what their text holds."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tools.messages.model import Extraction
from tools.messages.swift import parse_fin

PROWIDE = SHARED_DATA / "swift_mt" / "prowide"
FILES = sorted(PROWIDE.glob("*.fin")) if PROWIDE.is_dir() else []

# Independent, deliberately simple readings of the raw text (not the parser's code paths).
_32A = re.compile(r":32A:(\d{2})(\d{2})(\d{2})([A-Z]{3})(\d*,\d*)")
_PARTY = re.compile(r":(5[09])([AFK]?):(/[^\n]*\n)?([^\n]+)")
_58A = re.compile(r":58A:(?:/[^\n]*\n)?([A-Z0-9]{8,11})\n")
_BALANCE = re.compile(r":(60F|62F):([CD])(\d{2})(\d{2})(\d{2})([A-Z]{3})(\d*,\d*)")
_LINE61 = re.compile(r":61:\d{6}(?:\d{4})?R?([CD])[A-Z]?(\d*,\d*)")


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")


def _parse(path: Path) -> list[Extraction]:
    return parse_fin(path.read_bytes().decode("utf-8", errors="replace"), path.name)


def _amount(text: str) -> Decimal:
    whole, _, frac = text.partition(",")
    return Decimal(f"{whole or '0'}.{frac or '0'}")


def _date(yy: str, mm: str, dd: str) -> date:
    # FIN years are two digits; the 1998 statements in the fixtures need a century window
    year = int(yy)
    return date(2000 + year if year < 80 else 1900 + year, int(mm), int(dd))


def _of_type(kind: str) -> list[Path]:
    return [p for p in FILES if p.name.startswith(f"prowide_{kind}_")]


def test_fixtures_present(shared_data: Path) -> None:
    assert len(FILES) >= 180
    assert len(_of_type("103")) >= 60


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_message_parses(path: Path, shared_data: Path) -> None:
    results = _parse(path)  # a ParseError or any other exception fails the test
    assert results
    for result in results:
        assert result.doc_type.startswith("swift.")
        assert result.to_json_dict()["source"] == path.name


def test_mt103_and_mt202_amounts_dates_currencies(shared_data: Path) -> None:
    checked = 0
    for path in _of_type("103") + _of_type("202"):
        m = _32A.search(_text(path))
        if m is None:
            continue
        payments = [r.payment for r in _parse(path) if r.payment is not None and r.payment.amount is not None]
        assert len(payments) == 1, path.name
        payment = payments[0]
        yy, mm, dd, ccy, amount = m.groups()
        assert payment.value_date == _date(yy, mm, dd), path.name
        assert payment.currency == ccy, path.name
        assert payment.amount == _amount(amount), path.name
        checked += 1
    assert checked >= 45


def test_mt103_parties(shared_data: Path) -> None:
    checked = 0
    for path in _of_type("103"):
        text = _text(path)
        if "\\n" in text:
            continue  # JSON-escaped copies: covered by the amount test
        payments = [r.payment for r in _parse(path) if r.payment is not None]
        for m in _PARTY.finditer(text):
            number, option, _account, first = m.groups()
            party = payments[0].debtor if number == "50" else payments[0].creditor
            assert party is not None, path.name
            first = first.strip()
            if option == "A":
                assert party.identifier == first, path.name
            elif option == "F":
                if first.startswith("1/"):
                    assert party.name is not None and party.name.startswith(first[2:]), path.name
            elif first and not first.startswith("-"):
                assert party.name == first, path.name
            checked += 1
    assert checked >= 55


def test_mt202_beneficiary_institution(shared_data: Path) -> None:
    checked = 0
    for path in _of_type("202"):
        m = _58A.search(_text(path))
        if m is None:
            continue
        payment = _parse(path)[0].payment
        assert payment is not None and payment.creditor is not None
        assert payment.creditor.identifier == m.group(1), path.name
        checked += 1
    assert checked >= 5


def test_statements_balances_and_entries(shared_data: Path) -> None:
    checked = 0
    for path in _of_type("940") + _of_type("950"):
        text = _text(path)
        statements = [r.statement for r in _parse(path) if r.statement is not None]
        assert len(statements) == 1, path.name
        statement = statements[0]
        for m in _BALANCE.finditer(text):
            tag, mark, yy, mm, dd, ccy, amount = m.groups()
            kind = "opening" if tag == "60F" else "closing"
            balance = next(b for b in statement.balances if b.kind == kind)
            assert balance.currency == ccy
            assert balance.date == _date(yy, mm, dd)
            assert balance.amount == (-1 if mark == "D" else 1) * _amount(amount)
        raw_entries = _LINE61.findall(text)
        assert [e.amount for e in statement.entries] == [_amount(a) for _, a in raw_entries], path.name
        assert [e.credit_debit for e in statement.entries] == [
            "CRDT" if mark == "C" else "DBIT" for mark, _ in raw_entries
        ]
        checked += 1
    assert checked >= 14


def test_hand_checked_mt103(shared_data: Path) -> None:
    [result] = _parse(PROWIDE / "prowide_103_070.fin")
    payment = result.payment
    assert result.doc_type == "swift.mt103"
    assert payment is not None
    assert payment.reference == "1234567890"
    assert (payment.amount, payment.currency, payment.value_date) == (
        Decimal("14773500"),
        "XOF",
        date(2015, 11, 4),
    )
    assert payment.charge_bearer == "SHAR"
    assert payment.debtor is not None and payment.debtor.name == "FOO SARL"
    assert payment.debtor.account is not None and payment.debtor.account.other == "00057 03363591001 84"
    assert payment.creditor is not None and payment.creditor.address_lines == ["DIAMNIADO, DAKAR", "SENEGAL"]
    assert payment.creditor_agent is not None and payment.creditor_agent.bic == "CBAOSNDA"
    assert payment.remittance_information is not None
    assert payment.remittance_information.references == ["TFI-ZS-15002"]
    assert (payment.sender_bic, payment.receiver_bic) == ("CCEICMCX", "OMFNCIAB")
    assert any(f.code == "ACK" for f in result.findings)  # the F21 ACK in front of it
    amount_field = next(f for f in result.fields if f.name == "payment.amount")
    assert (amount_field.value, amount_field.source.tag, amount_field.confidence) == ("14773500", "32A", 1.0)


def test_hand_checked_mt103_uetr_and_iban_checksum(shared_data: Path) -> None:
    [result] = _parse(PROWIDE / "prowide_103_085.fin")
    assert result.payment is not None
    assert result.payment.uetr == "eb6305c9-1f7f-49de-aed0-16487c27b42d"
    [result] = _parse(PROWIDE / "prowide_103_013.fin")
    payment = result.payment
    assert payment is not None and payment.creditor is not None and payment.creditor.account is not None
    assert payment.creditor.account.iban == "ES1234123412341234123412"
    finding = next(f for f in result.findings if f.code == "IBAN_CHECKSUM")
    assert finding.field == "payment.creditor.account.iban"
    iban_field = next(f for f in result.fields if f.name == "payment.creditor.account.iban")
    assert iban_field.confidence < 1.0
    assert payment.instruction_codes == ["SDVA", "CORT"]
    assert payment.instructed_amount == Decimal("1234567") and payment.instructed_currency == "EUR"


def test_hand_checked_mt202(shared_data: Path) -> None:
    [result] = _parse(PROWIDE / "prowide_202_025.fin")
    payment = result.payment
    assert result.doc_type == "swift.mt202"
    assert payment is not None
    assert (payment.reference, payment.related_reference) == ("X2XC05060308", "X2XC05060308")
    assert payment.amount == Decimal("12345.67") and payment.currency == "EUR"
    assert payment.debtor is not None and payment.debtor.identifier == "LLLLLULLXXX"
    assert payment.creditor is not None and payment.creditor.identifier == "FOOBARYYXXX"
    assert (
        payment.creditor.account is not None and payment.creditor.account.iban == "ES4100940060792840000017"
    )
    assert payment.creditor_agent is not None and payment.creditor_agent.bic == "FOOBARYYXXX"
    assert payment.sender_to_receiver_information[0] == "/BNF/REDEM 123.456 SHS B LU01191229"


def test_hand_checked_mt950(shared_data: Path) -> None:
    [result] = _parse(PROWIDE / "prowide_950_109.fin")
    statement = result.statement
    assert result.doc_type == "swift.mt950" and statement is not None
    assert statement.account is not None and statement.account.other == "123 456789"
    assert [(b.kind, b.amount) for b in statement.balances] == [
        ("opening", Decimal("3723495")),
        ("closing", Decimal("3709865.13")),
    ]
    assert len(statement.entries) == 9
    first = statement.entries[0]
    assert (first.amount, first.credit_debit, first.value_date) == (Decimal("1.2"), "DBIT", date(2002, 5, 28))
    assert (first.transaction_code, first.customer_reference, first.bank_reference) == (
        "FBNK",
        "505064/DEV",
        "67914",
    )
    assert statement.entries[3].supplementary_details == "FAVOUR K. DESMID"


def test_other_types_have_no_payment_mapping(shared_data: Path) -> None:
    candidates = _of_type("535")
    result = _parse(candidates[0])[0]
    assert result.doc_type == "swift.mt535"
    assert result.payment is None and result.statement is None
    assert [f.severity for f in result.findings if f.code == "NO_PAYMENT_MAPPING"] == ["info"]
    assert result.raw is not None and result.raw["fields"]
