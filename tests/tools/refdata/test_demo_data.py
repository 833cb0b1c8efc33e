"""The committed demo data: deterministic, small, valid, and loadable on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import throwaway_postgres
from tools.db import get_engine
from tools.refdata.loader import load_file, read_file, validate
from tools.refdata.store import RefDataStore

DEMO = Path(__file__).resolve().parents[3] / "corpora" / "demo"
EXPECTED = {"customers": 300, "accounts": 418, "ssis": 389, "open_invoices": 670, "payments": 906}


def test_demo_file_is_small_and_valid() -> None:
    path = DEMO / "refdata.json"
    assert path.stat().st_size < 2_000_000
    data = validate(read_file(path))
    assert {kind: len(getattr(data, kind)) for kind in EXPECTED} == EXPECTED
    currencies = {a.currency for a in data.accounts}
    assert {"EUR", "GBP", "USD", "CHF", "SEK", "JPY"} <= currencies
    assert {a.iban[:2] for a in data.accounts} >= {"DE", "FR", "NL", "GB", "CH", "SE", "ES", "IT", "BE", "AT"}
    assert {a.status for a in data.accounts} == {"open", "closed", "blocked"}
    assert all(
        inv.amount == inv.amount.to_integral_value() for inv in data.open_invoices if inv.currency == "JPY"
    )
    per_currency: dict[tuple[str, str], int] = {}
    for ssi in data.ssis:
        per_currency[(ssi.customer_id, ssi.currency)] = (
            per_currency.get((ssi.customer_id, ssi.currency), 0) + 1
        )
    assert sum(1 for n in per_currency.values() if n > 1) >= 5


@pytest.mark.slow
def test_generator_is_deterministic(tmp_path: Path) -> None:
    out = tmp_path / "refdata.json"
    subprocess.run(
        [sys.executable, str(DEMO / "generate.py"), "--out", str(out)], check=True, capture_output=True
    )
    assert out.read_bytes() == (DEMO / "refdata.json").read_bytes()


def test_demo_loads_on_sqlite_and_reload_is_idempotent(tmp_path: Path) -> None:
    store = RefDataStore(get_engine(f"sqlite:///{tmp_path / 'demo.db'}"))
    assert load_file(DEMO / "refdata.json", store).counts == EXPECTED
    load_file(DEMO / "refdata.json", store)
    assert store.counts() == EXPECTED
    _check_story_rows(store)


def _check_story_rows(store: RefDataStore) -> None:
    ssis = store.ssis_of("C-1001", "EUR")
    assert [s.iban for s in ssis] == ["DE31370400447986432616"]
    closed = store.get_account("FR7630004000012243755298473")
    assert closed is not None and closed.status == "closed"
    jpy = sorted(str(i.amount) for i in store.open_invoices_of("C-1010", "JPY"))
    assert jpy == ["1250000", "480000", "93000"]
    window = store.payments_between("EUR", date(2026, 11, 12), date(2026, 11, 22))
    assert {"PAYDUP0001", "PAYRCL0001", "PAYNODUP03"} <= {p.reference for p in window}
    assert all(date(2026, 11, 12) <= p.value_date <= date(2026, 11, 22) for p in window)
    assert [p.reference for p in store.payments_by_uetr("3F2B8C1E-6A4D-4E1F-9B7A-2C5D8E9F0A11")] == [
        "PAYDUP0001"
    ]
    assert "UNCRITMM" in store.reference_bics()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database ``repairdesk_test_<random>`` on the shared server, dropped afterwards."""
    with throwaway_postgres() as url:
        yield url


@pytest.mark.postgres
@pytest.mark.slow
def test_demo_loads_on_postgres_all_or_nothing(postgres_url: str, tmp_path: Path) -> None:
    store = RefDataStore(get_engine(postgres_url))
    assert load_file(DEMO / "refdata.json", store).counts == EXPECTED
    assert store.counts() == EXPECTED
    _check_story_rows(store)
    # A bad record in a second load leaves the first load intact.
    doc = json.loads((DEMO / "refdata.json").read_text(encoding="utf-8"))
    doc["customers"][0]["name"] = "Changed GmbH"
    doc["accounts"][5]["iban"] = "DE00000000000000000000"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(Exception, match=r"accounts\[5\]\.iban"):
        load_file(bad, store)
    customer = store.get_customer("C-1001")
    assert customer is not None and customer.name == "Müller Maschinenbau GmbH"
