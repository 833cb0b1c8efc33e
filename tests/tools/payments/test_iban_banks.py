"""IBAN validation, BIC derivation and bank look-ups (schwifty registry + reference data)."""

from __future__ import annotations

import pytest

from tools.payments.banks import lookup_bic, search_banks
from tools.payments.iban import validate_iban
from tools.refdata.store import RefDataStore


def test_valid_iban_derives_bank() -> None:
    result = validate_iban("de89 3704 0044 0532 0130 00")
    assert result == {
        "valid": True,
        "iban": "DE89370400440532013000",
        "country": "DE",
        "bank_code": "37040044",
        "bic": "COBADEFF",
        "bank_name": "Commerzbank",
        "error": None,
        "ref": "iban:DE89370400440532013000",
    }


@pytest.mark.parametrize(
    ("iban", "error"),
    [
        ("DE31370400447986432661", "invalid IBAN checksum"),  # C-1001's IBAN with two digits swapped
        ("DE8937040044053201300", "invalid IBAN length"),
        ("QQ89370400440532013000", "unknown IBAN country code"),
        ("", "empty IBAN"),
    ],
)
def test_invalid_iban_is_a_result_not_an_exception(iban: str, error: str) -> None:
    result = validate_iban(iban)
    assert result["valid"] is False and result["error"] == error and result["bic"] is None


def test_lookup_bic_registry_and_branch_forms() -> None:
    head = lookup_bic("DEUTDEFFXXX")
    assert head["found"] and head["bic"] == "DEUTDEFF" and head["bank_name"] == "Deutsche Bank"
    assert head["source"] == "registry" and head["ref"] == "bank:DEUTDEFF" and head["exact"]
    branch = lookup_bic("UBSWCHZH")  # only the branch UBSWCHZH80A is registered
    assert branch["found"] and not branch["exact"] and branch["country"] == "CH"


def test_lookup_bic_not_found_and_malformed(demo_store: RefDataStore) -> None:
    missing = lookup_bic("UNCRITMX", demo_store)  # C-1013's wrong BIC
    assert missing["found"] is False and missing["valid_format"] and "ref" not in missing
    malformed = lookup_bic("12AB", demo_store)
    assert malformed["found"] is False and malformed["valid_format"] is False


def test_lookup_bic_falls_back_to_reference_data(
    demo_store: RefDataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tools.payments.banks as banks

    monkeypatch.setattr(banks, "_safe_registry_bank", lambda bic: (None, False))
    result = lookup_bic("UNCRITMM", demo_store)  # C-1013's BIC, present in its SSI
    assert result["found"] and result["source"] == "refdata" and result["ref"] == "bank:UNCRITMM"


def test_search_banks_by_name_and_country(demo_store: RefDataStore) -> None:
    result = search_banks("Intesa Sanpaolo SpA", "IT", demo_store)
    assert result["found"] and result["best"]["bic"] == "BCITITMM"
    assert result["best"]["ref"] == "bank:BCITITMM"
    assert all(c["country"] == "IT" for c in result["candidates"])


def test_search_banks_with_many_equal_names_is_ambiguous(demo_store: RefDataStore) -> None:
    result = search_banks("Commerzbank", "DE")
    assert result["ambiguous"] and not result["found"]
    assert result["best"]["score"] == 1.0 and result["best"]["bank_name"] == "Commerzbank"


def test_search_banks_no_match() -> None:
    result = search_banks("Zzyzx Qwerty", "SE")
    assert not result["found"] and result["best"] is None
