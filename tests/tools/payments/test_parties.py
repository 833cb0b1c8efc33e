"""Party resolution without a customer id: name, account, address and country with a margin."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.db import get_engine
from tools.payments.parties import _account_match, resolve_party
from tools.refdata.schema import RefDataFile
from tools.refdata.store import RefDataStore

GOOD = "DE31370400447986432616"  # C-1001's SSI in the demo data


def test_name_and_a_mistyped_account_resolve_the_customer(demo_store: RefDataStore) -> None:
    result = resolve_party(demo_store, "MUELLER MASCHINENBAU GMBH", iban="DE31370400447986432661")
    assert result["resolved"] and result["customer_id"] == "C-1001" and result["ref"] == "party:C-1001"
    assert result["candidates"][0]["account"] == pytest.approx(0.7)


def test_print_format_account_and_address_resolve(demo_store: RefDataStore) -> None:
    result = resolve_party(
        demo_store,
        "Müller Maschinenbau GmbH",
        iban="de31 3704 0044 7986 4326 16",
        address_lines=["Hauptstrasse 12", "50667 Koeln"],
        country="DE",
    )
    assert result["resolved"] and result["customer_id"] == "C-1001"
    assert result["candidates"][0]["account"] == 1.0


def test_a_name_alone_is_not_enough(demo_store: RefDataStore) -> None:
    result = resolve_party(demo_store, "Müller Maschinenbau GmbH")
    assert not result["resolved"] and "customer_id" not in result
    assert result["candidates"][0]["customer_id"] == "C-1001"


def test_an_unknown_party_is_not_resolved(demo_store: RefDataStore) -> None:
    assert not resolve_party(demo_store, "Nobody Trading Ltd", iban="GB29NWBK60161331926819")["resolved"]


@pytest.fixture
def twins(tmp_path: Path) -> RefDataStore:
    store = RefDataStore(get_engine(f"sqlite:///{tmp_path / 'twins.db'}"))
    address = ["Ring 1", "1010 Wien"]
    customers = [
        {"customer_id": "T-1", "name": "Alpine Timber AG", "country": "AT", "address_lines": address},
        {"customer_id": "T-2", "name": "Alpine Timber GmbH", "country": "AT", "address_lines": address},
    ]
    data = {"customers": customers}
    store.upsert(RefDataFile.model_validate(data))
    return store


def test_two_equally_good_customers_are_ambiguous(twins: RefDataStore) -> None:
    result = resolve_party(twins, "Alpine Timber", address_lines=["Ring 1", "1010 Wien"], country="AT")
    assert not result["resolved"] and result["ambiguous"]
    assert {c["customer_id"] for c in result["candidates"]} == {"T-1", "T-2"}


def test_look_alike_characters_never_resolve(demo_store: RefDataStore) -> None:
    spoof = "Müllеr Maschinenbau GmbH"  # Cyrillic "е"
    assert not resolve_party(demo_store, spoof, iban=GOOD)["resolved"]


@pytest.mark.parametrize(
    ("given", "score"),
    [(GOOD, 1.0), ("DE31370400447986432661", 0.7), ("DE31370400447986432617", 0.7),
     ("DE31370400447986433516", 0.0), ("AT31370400447986432616", 0.0), (GOOD[:-1], 0.0)],
)  # fmt: skip
def test_account_keying_errors(given: str, score: float) -> None:
    assert _account_match(given, GOOD) == score
