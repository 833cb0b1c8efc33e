"""MT940/MT942 statements from wolph/mt940: balances and entries match the expected parse (.yml)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DATA
from tests.tools.messages.swift.wolph import load_expected
from tools.errors import ParseError
from tools.messages.currencies import is_currency
from tools.messages.model import Balance, Extraction
from tools.messages.swift import parse_fin

WOLPH = SHARED_DATA / "mt940" / "wolph"
CASES = sorted(p for p in WOLPH.rglob("*.yml") if p.with_suffix(".sta").is_file()) if WOLPH.is_dir() else []

# Our balance kinds and the attribute mt940 stores the same balance under.
_KINDS = {
    "opening": ("final_opening_balance", "opening_balance"),
    "interim_opening": ("intermediate_opening_balance",),
    "closing": ("final_closing_balance", "closing_balance"),
    "interim_closing": ("intermediate_closing_balance",),
    "closing_available": ("available_balance",),
    "forward_available": ("forward_available_balance",),
}


def _extract(path: Path) -> list[Extraction]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        return parse_fin(text, path.name)
    except ParseError:
        return []


def _signed_entry_amount(entry: Any) -> Decimal:
    # mt940 signs D and (by default) leaves RC positive; a reversal of a debit (RD) is positive
    mark_d = entry.credit_debit == "DBIT" and not entry.reversal
    return -entry.amount if mark_d else entry.amount


def test_fixtures_present(shared_data: Path) -> None:
    assert len(CASES) >= 40, f"expected the wolph statements under {WOLPH}"


@pytest.mark.parametrize("yml", CASES, ids=[str(p.relative_to(WOLPH)) for p in CASES])
def test_statement_matches_expected(yml: Path, shared_data: Path) -> None:
    sta = yml.with_suffix(".sta")
    assert sta.is_file()
    expected = load_expected(yml)
    extractions = _extract(sta)
    statements = [e.statement for e in extractions if e.statement is not None]

    entries = [e for s in statements for e in s.entries]
    want = expected["transactions"]
    assert len(entries) == len(want)
    for got, exp in zip(entries, want, strict=True):
        assert _signed_entry_amount(got) == exp["amount"]["amount"]
        assert got.value_date == exp["date"]
        if exp.get("entry_date") is not None:
            assert got.booking_date == exp["entry_date"]
        if exp.get("currency"):
            assert got.currency == exp["currency"]

    # mt940 keeps the last value of each balance tag across the statements in a file
    last: dict[str, Balance] = {}
    for statement in statements:
        for item in statement.balances:
            last[item.kind] = item
    data = expected["data"]
    for kind, names in _KINDS.items():
        exp_balance = next((data[n] for n in names if data.get(n)), None)
        if exp_balance is None:
            continue
        if not is_currency(str(exp_balance["amount"]["currency"])):
            # mt940 reads e.g. "C02032495000,00" (no currency) as currency "950": we report it instead
            assert any(f.code == "FIELD_FORMAT" for e in extractions for f in e.findings)
            continue
        balance = last.get(kind)
        assert balance is not None, f"missing {kind} balance"
        assert balance.amount == exp_balance["amount"]["amount"]
        assert balance.currency == exp_balance["amount"]["currency"]
        assert balance.date == exp_balance["date"]
