"""camt.052/053/054 statements against the expected parse genkgo/camt ships next to each XML.

The JSON is genkgo's object dump: ``getEntries`` lists entries, each with its amount in minor units
(signed: negative for debits), credit/debit mark, booking and value dates, status, its index within
its statement and the statement (``getRecord``) with id and balances.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DATA
from tools.errors import ParseError
from tools.messages.currencies import minor_units
from tools.messages.iso20022 import parse_xml, parse_xml_all
from tools.messages.model import Statement

GENKGO = SHARED_DATA / "iso20022" / "camt_genkgo"
CASES = sorted(p for p in GENKGO.glob("*.json")) if GENKGO.is_dir() else []
# our balance kinds -> genkgo's names, where they differ (PRCD: genkgo calls it "opening")
GENKGO_KINDS = {"expected": "expected_credit", "previous_closing": "opening"}


def _major(money: dict[str, Any]) -> tuple[Decimal, str]:
    currency = money["getCurrency"]["getCode"]
    units = minor_units(currency)
    assert units is not None
    return Decimal(money["getAmount"]).scaleb(-units), currency


def _day(value: dict[str, Any] | None) -> str | None:
    return value["0"][:10] if value else None


def _statements(xml: Path) -> dict[str | None, Statement]:
    extractions = parse_xml_all(xml.read_bytes(), xml.name)
    return {e.statement.statement_id: e.statement for e in extractions if e.statement is not None}


@pytest.mark.parametrize("expected_json", CASES, ids=lambda p: p.stem)
def test_entries_match_expected_json(expected_json: Path, iso_dir: Path) -> None:
    xml = expected_json.with_suffix(".xml")
    expected = json.loads(expected_json.read_text())
    statements = _statements(xml)
    assert statements, f"{xml.name}: no statement parsed"
    for item in expected["getEntries"]:
        record = item["getRecord"]
        statement = statements[record["getId"]]
        entry = statement.entries[item["getIndex"]]
        amount, currency = _major(item["getAmount"])
        assert entry.credit_debit == item["getCreditDebitIndicator"]
        signed = -entry.amount if entry.credit_debit == "DBIT" else entry.amount
        assert (signed, entry.currency) == (amount, currency)
        assert entry.reversal is bool(item["getReversalIndicator"])
        assert entry.status == item["getStatus"]
        expected_value = _day(item["getValueDate"])
        assert (entry.value_date.isoformat() if entry.value_date else None) == expected_value
        booking = item["getBookingDate"]
        if booking is None:
            assert entry.booking_date is None
        else:
            # genkgo converts date-times to UTC, we keep the date as written; no sample crosses midnight
            assert entry.booking_date == datetime.fromisoformat(booking["0"]).date()
        if isinstance(record.get("getBalances"), list):
            got = [(b.kind, b.amount, b.currency) for b in statement.balances]
            want = []
            for balance in record["getBalances"]:
                value, ccy = _major(balance["getAmount"])
                want.append((balance["getType"], value, ccy))
            assert [(GENKGO_KINDS.get(k, k), v, c) for k, v, c in got] == want


def test_counts_entries_per_statement(iso_dir: Path) -> None:
    xml = iso_dir / "camt_genkgo" / "camt053.v2.multi.statement.xml"
    statements = _statements(xml)
    assert list(statements) == ["253EURNL26VAYB8060476890", "254EURNL26VAYB8060476890"]
    assert [len(s.entries) for s in statements.values()] == [1, 1]
    single = parse_xml(xml.read_bytes(), xml.name)
    assert single.statement is not None and single.statement.statement_id == "253EURNL26VAYB8060476890"
    assert any(f.code == "MULTIPLE_STATEMENTS" for f in single.findings)


def test_hand_checked_statement(iso_dir: Path) -> None:
    xml = iso_dir / "camt_genkgo" / "camt053.v2.minimal.xml"
    extraction = parse_xml(xml.read_bytes(), xml.name)
    assert extraction.doc_type == "iso20022.camt.053"
    statement = extraction.statement
    assert statement is not None and statement.account is not None
    assert statement.account.iban == "NL26VAYB8060476890"
    assert [(b.kind, b.amount, b.currency) for b in statement.balances[:2]] == [
        ("opening", Decimal("18.15"), "EUR"),
        ("closing", Decimal("-27.00"), "SEK"),
    ]
    entry = statement.entries[0]
    assert (entry.amount, entry.credit_debit, str(entry.booking_date), str(entry.value_date)) == (
        Decimal("8.85"),
        "CRDT",
        "2014-12-31",
        "2015-01-02",
    )
    xpaths = {f.name: f.source.xpath for f in extraction.fields}
    assert xpaths["statement.entries[0].amount"] == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt"


def test_all_balance_types_are_named(iso_dir: Path) -> None:
    xml = iso_dir / "camt_genkgo" / "camt053.v2.all-balance-types.xml"
    statement = parse_xml(xml.read_bytes(), xml.name).statement
    assert statement is not None
    kinds = {b.kind for b in statement.balances}
    assert {
        "opening",
        "closing",
        "closing_available",
        "forward_available",
        "interim",
        "previous_closing",
    } <= kinds


def test_wrong_statement_is_an_error_finding(iso_dir: Path) -> None:
    xml = iso_dir / "camt_genkgo" / "camt053.v2.wrong.xml"
    try:
        extraction = parse_xml(xml.read_bytes(), xml.name)
    except ParseError:
        return
    assert extraction.statement is None
    errors = [f for f in extraction.findings if f.severity == "error"]
    assert any(f.code == "MANDATORY_ELEMENT" and (f.field or "").endswith("/Stmt") for f in errors)


def test_five_decimal_amounts_within_currency_rules(iso_dir: Path) -> None:
    # 8.850 EUR has a trailing zero: still two significant decimals, so no AMOUNT_DECIMALS finding
    xml = iso_dir / "camt_genkgo" / "camt053.v2.five.decimals.xml"
    extraction = parse_xml(xml.read_bytes(), xml.name)
    assert not [f for f in extraction.findings if f.code == "AMOUNT_DECIMALS"]
    assert extraction.statement is not None and extraction.statement.entries[0].amount == Decimal("8.850")
