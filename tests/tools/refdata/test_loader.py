"""Loader: validation by position, all-or-nothing, upsert, cross-references, CLI exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tools.db import get_engine
from tools.errors import ValidationError
from tools.refdata.loader import RefDataError, load, load_file, validate
from tools.refdata.store import RefDataStore

GOOD_IBAN = "DE89370400440532013000"
BAD_IBAN = "DE89370400440532013001"  # last digit changed: checksum fails


def _doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "customers": [
            {"customer_id": "C-1", "name": "Acme GmbH", "country": "DE", "address_lines": ["Berlin"]}
        ],
        "accounts": [
            {"customer_id": "C-1", "iban": GOOD_IBAN, "bic": "COBADEFF", "currency": "EUR", "status": "open"}
        ],
        "ssis": [
            {
                "ssi_id": "C-1:1",
                "customer_id": "C-1",
                "beneficiary_name": "Acme GmbH",
                "iban": GOOD_IBAN,
                "bic": "COBADEFF",
                "currency": "EUR",
                "address_lines": [],
                "country": "DE",
            }
        ],
        "open_invoices": [
            {
                "invoice_number": "INV-1",
                "customer_id": "C-1",
                "currency": "EUR",
                "amount": "100.00",
                "due_date": "2026-11-30",
            }
        ],
        "payments": [
            {
                "reference": "P1",
                "uetr": "eb6305c9-1f7f-49de-aed0-16487c27b42d",
                "amount": "100.00",
                "currency": "EUR",
                "value_date": "2026-11-01",
                "debtor_name": "X",
                "creditor_name": "Acme GmbH",
                "creditor_iban": GOOD_IBAN,
            }
        ],
    }
    doc.update(overrides)
    return doc


@pytest.fixture
def store(tmp_path: Path) -> RefDataStore:
    return RefDataStore(get_engine(f"sqlite:///{tmp_path / 'ref.db'}"))


def test_valid_file_loads_every_kind(store: RefDataStore) -> None:
    report = load(_doc(), store)
    assert report.counts == {"customers": 1, "accounts": 1, "ssis": 1, "open_invoices": 1, "payments": 1}
    assert store.counts() == report.counts
    assert store.get_account(GOOD_IBAN) is not None
    assert str(store.open_invoices_of("C-1")[0].amount) == "100.00"


def test_errors_are_reported_by_position() -> None:
    accounts = [
        {"customer_id": "C-1", "iban": GOOD_IBAN, "currency": "EUR"},
        {"customer_id": "C-1", "iban": BAD_IBAN, "currency": "EUR"},
        {"customer_id": "C-1", "iban": "DE44500105175407324931", "currency": "EURO", "status": "gone"},
    ]
    invoices = [{"invoice_number": "J1", "customer_id": "C-1", "currency": "JPY", "amount": "10.50"}]
    with pytest.raises(RefDataError) as info:
        validate(_doc(accounts=accounts, open_invoices=invoices))
    problems = info.value.problems
    assert "accounts[1].iban: invalid IBAN checksum" in problems
    assert any(p.startswith("accounts[2].currency: unknown currency code") for p in problems)
    assert any(p.startswith("accounts[2].status:") for p in problems)
    assert "open_invoices[0].amount: JPY allows 0 decimals" in problems
    assert not any(p.startswith("accounts[0]") for p in problems)


def test_duplicates_and_unknown_customers_are_reported() -> None:
    accounts = [
        {"customer_id": "C-1", "iban": GOOD_IBAN, "currency": "EUR"},
        {"customer_id": "C-1", "iban": GOOD_IBAN, "currency": "EUR"},
        {"customer_id": "C-404", "iban": "DE44500105175407324931", "currency": "EUR"},
    ]
    with pytest.raises(RefDataError) as info:
        validate(_doc(accounts=accounts))
    assert info.value.problems == [
        f"accounts[1].iban: duplicate of accounts[0] ({GOOD_IBAN})",
        "accounts[2].customer_id: unknown customer C-404",
    ]


def test_schema_and_cross_record_problems_are_reported_together() -> None:
    accounts = [
        {"customer_id": "C-1", "iban": "DE89 3704 0044 0532 0130 00", "currency": "EUR"},
        {"customer_id": "C-1", "iban": GOOD_IBAN, "currency": "EUR"},  # same IBAN, other spacing
        {"customer_id": "C-7", "iban": BAD_IBAN, "currency": "EUR"},
    ]
    with pytest.raises(RefDataError) as info:
        validate(_doc(accounts=accounts))
    assert info.value.problems == [
        "accounts[2].iban: invalid IBAN checksum",
        f"accounts[1].iban: duplicate of accounts[0] ({GOOD_IBAN})",
        "accounts[2].customer_id: unknown customer C-7",
    ]


def test_nothing_is_loaded_when_one_record_is_bad(store: RefDataStore) -> None:
    doc = _doc()
    doc["payments"].append({"reference": "P2", "amount": "-5", "currency": "EUR", "value_date": "2026-11-01"})
    with pytest.raises(RefDataError, match=r"payments\[1\]\.amount"):
        load(doc, store)
    assert store.counts() == {k: 0 for k in store.counts()}


def test_database_failure_rolls_back_the_whole_load(
    store: RefDataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(_doc(), store)
    import tools.refdata.store as store_module

    calls = {"n": 0}
    original = store_module._replace

    def failing(conn: Any, table: Any, key: str, rows: list[dict[str, Any]]) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # customers and accounts written, then the SSIs fail
            raise RuntimeError("disk full")
        original(conn, table, key, rows)

    monkeypatch.setattr(store_module, "_replace", failing)
    changed = _doc()
    changed["customers"][0]["name"] = "Renamed GmbH"
    with pytest.raises(RuntimeError):
        load(changed, store)
    customer = store.get_customer("C-1")
    assert customer is not None and customer.name == "Acme GmbH"


def test_upsert_replaces_records_with_the_same_id(store: RefDataStore) -> None:
    load(_doc(), store)
    second = {
        "customers": [{"customer_id": "C-1", "name": "Acme Holding GmbH", "country": "DE"}],
        "accounts": [{"customer_id": "C-1", "iban": GOOD_IBAN, "currency": "EUR", "status": "closed"}],
    }
    load(second, store)
    customer = store.get_customer("C-1")
    account = store.get_account(GOOD_IBAN)
    assert customer is not None and customer.name == "Acme Holding GmbH"
    assert account is not None and account.status == "closed"
    assert store.counts()["customers"] == 1 and store.counts()["accounts"] == 1
    assert store.counts()["ssis"] == 1  # untouched kinds stay


def test_reference_to_a_customer_loaded_earlier_is_accepted(store: RefDataStore) -> None:
    load(_doc(), store)
    later = {"accounts": [{"customer_id": "C-1", "iban": "DE44500105175407324931", "currency": "USD"}]}
    assert load(later, store).counts["accounts"] == 1
    with pytest.raises(RefDataError, match="unknown customer C-2"):
        load(
            {"accounts": [{"customer_id": "C-2", "iban": "DE44500105175407324931", "currency": "USD"}]}, store
        )


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "not JSON"), ("[1, 2]", "expected a JSON object"), ('{"banks": []}', "banks")],
)
def test_unreadable_files_are_typed_errors(
    store: RefDataStore, tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValidationError, match=reason):
        load_file(path, store)


def test_cli_load_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli.main import cli

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(_doc()))
    broken = _doc()
    broken["accounts"][0]["iban"] = BAD_IBAN
    bad.write_text(json.dumps(broken))
    runner = CliRunner()
    ok = runner.invoke(cli, ["refdata", "load", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "1 customers" in ok.output
    failed = runner.invoke(cli, ["refdata", "load", str(bad)])
    assert failed.exit_code == 1
    assert "accounts[0].iban: invalid IBAN checksum" in failed.output
    assert "Traceback" not in failed.output
    missing = runner.invoke(cli, ["refdata", "load", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1
    usage = runner.invoke(cli, ["refdata", "load"])
    assert usage.exit_code == 2
