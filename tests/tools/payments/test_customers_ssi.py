"""Customer, account and SSI look-ups on the demo data (answers checked by hand against refdata.json)."""

from __future__ import annotations

from tools.payments.customers import find_customer, get_customer, lookup_account
from tools.payments.ssi import get_ssi
from tools.refdata.store import RefDataStore


def test_get_customer(demo_store: RefDataStore) -> None:
    result = get_customer(demo_store, "C-1014")
    assert result == {
        "found": True,
        "customer_id": "C-1014",
        "name": "Brabant Tools BV",
        "country": "BE",
        "address_lines": ["Meir 22", "2000 Antwerpen"],
        "ref": "customer:C-1014",
    }
    assert get_customer(demo_store, "C-9999") == {"found": False, "customer_id": "C-9999"}


def test_find_customer_ignores_accents_case_and_legal_form(demo_store: RefDataStore) -> None:
    result = find_customer(demo_store, "SOCIETE GENERALE DES VINS", "FR")
    assert result["found"] and result["best"]["customer_id"] == "C-1018"
    assert result["ref"] == "customer:C-1018"


def test_find_customer_refuses_homoglyph(demo_store: RefDataStore) -> None:
    result = find_customer(demo_store, "Nordw\u0456nd Logistik GmbH")
    assert result["homoglyph"] and not result["found"] and "ref" not in result
    assert result["best"]["customer_id"] == "C-1003" and result["best"]["score"] < 0.85


def test_closed_account_with_single_replacement(demo_store: RefDataStore) -> None:
    result = lookup_account(demo_store, "FR76 3000 4000 0122 4375 5298 473")
    assert result["found"] and result["status"] == "closed" and result["customer_id"] == "C-1002"
    assert result["replacement_iban"] == "FR7630003000101401596556582"
    assert result["replacement_ref"] == "account:FR7630003000101401596556582"
    assert result["ref"] == "account:FR7630004000012243755298473"


def test_closed_account_with_two_open_accounts_has_no_replacement(demo_store: RefDataStore) -> None:
    result = lookup_account(demo_store, "SE2260024292089677287140")
    assert result["status"] == "closed" and result["replacement_iban"] is None
    assert {a["iban"] for a in result["open_accounts"]} == {
        "SE7050004176705477559040",
        "SE1180058795465563513400",
    }


def test_blocked_and_unknown_accounts(demo_store: RefDataStore) -> None:
    assert lookup_account(demo_store, "NL23ABNA6509885777")["status"] == "blocked"
    assert lookup_account(demo_store, "DE02370400447986432653") == {
        "found": False,
        "iban": "DE02370400447986432653",
    }


def test_ssi_for_typo_iban(demo_store: RefDataStore) -> None:
    result = get_ssi(demo_store, "C-1001", "EUR", "MUELLER MASCHINENBAU", iban="DE31370400447986432661")
    assert result["found"] and result["ref"] == "ssi:C-1001:1"
    assert result["iban"] == "DE31370400447986432616" and result["bic"] == "COBADEFF"
    assert result["name_score"] >= 0.9 and not result["ambiguous"] and result["iban_distance"] == 2


def test_ssi_chosen_by_beneficiary_name(demo_store: RefDataStore) -> None:
    result = get_ssi(demo_store, "C-1008", "SEK", "Orion Fastigheter")
    assert result["ssi_id"] == "C-1008:2" and result["iban"] == "SE8280007864886855970180"
    assert result["count"] == 2 and not result["ambiguous"]
    other = get_ssi(demo_store, "C-1008", "SEK", "ORION HOLDINGS AB")
    assert other["ssi_id"] == "C-1008:1" and not other["ambiguous"]


def test_ssi_same_name_twice_is_ambiguous_and_not_found(demo_store: RefDataStore) -> None:
    result = get_ssi(demo_store, "C-1009", "EUR", "Vega Consulting GmbH")
    assert not result["found"] and result["ambiguous"] and result["count"] == 2
    assert "iban" not in result and "ref" not in result  # nothing a rule could repair with
    assert {c["iban"] for c in result["candidates"]} == {"AT931200011567352095", "AT582011176485470866"}


def test_failing_iban_breaks_a_tie(demo_store: RefDataStore) -> None:
    result = get_ssi(demo_store, "C-1009", "EUR", "Vega Consulting GmbH", iban="AT931200011567352059")
    assert result["found"] and result["ssi_id"] == "C-1009:1" and result["iban_distance"] == 2


def test_ssi_without_name_is_ambiguous_when_several(demo_store: RefDataStore) -> None:
    assert get_ssi(demo_store, "C-1008", "SEK")["ambiguous"]
    single = get_ssi(demo_store, "C-1005", "GBP")
    assert single["found"] and single["name_score"] is None and single["ref"] == "ssi:C-1005:1"


def test_ssi_by_currency(demo_store: RefDataStore) -> None:
    assert get_ssi(demo_store, "C-1011", "USD")["iban"] == "BE37310429607228"
    assert get_ssi(demo_store, "C-1011", "EUR")["iban"] == "BE03001008633884"
    missing = get_ssi(demo_store, "C-1011", "JPY")
    assert missing["found"] is False and "ref" not in missing
    assert get_ssi(demo_store, "C-1020", "EUR")["found"] is False  # no SSI on file


def test_ssi_homoglyph_name_is_never_accepted(demo_store: RefDataStore) -> None:
    result = get_ssi(demo_store, "C-1003", "EUR", "Nordw\u0456nd Logistik GmbH")
    assert result["homoglyph"] and result["name_score"] < 0.85
    plain = get_ssi(demo_store, "C-1003", "EUR", "Nordwind Logistik GmbH")
    assert plain["name_score"] == 1.0 and not plain["homoglyph"]
