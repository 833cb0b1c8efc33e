"""Duplicate search and recall windows on the demo data (C-1012 and C-1015 stories)."""

from __future__ import annotations

from datetime import date

import pytest

from tools import config
from tools.clock import FixedClock
from tools.errors import ValidationError
from tools.payments.duplicates import find_duplicates
from tools.payments.recall import add_months, business_days_between, check_recall_window, target_holidays
from tools.refdata.store import RefDataStore

RHEINLAND_IBAN = "DE53700202703661185714"
DUP_UETR = "3f2b8c1e-6a4d-4e1f-9b7a-2c5d8e9f0a11"


def test_same_fields_within_window(demo_store: RefDataStore) -> None:
    result = find_duplicates(
        demo_store, amount="48250.00", currency="EUR", value_date="2026-11-17",
        creditor_iban=RHEINLAND_IBAN, creditor_name="Rheinland Chemie AG", reference="NEWREF1",
    )  # fmt: skip
    assert result["found"] and result["count"] == 1
    first = result["duplicates"][0]
    assert first["reference"] == "PAYDUP0001" and first["match"] == "fields" and first["days_apart"] == 1
    assert result["ref"] == "payment:PAYDUP0001"


def test_window_bounds_the_search(demo_store: RefDataStore) -> None:
    wide = find_duplicates(
        demo_store, amount="48250.00", currency="EUR", value_date="2026-11-17",
        creditor_iban=RHEINLAND_IBAN, window_days=14,
    )  # fmt: skip
    assert [d["reference"] for d in wide["duplicates"]] == ["PAYDUP0001", "PAYOLD0002"]


def test_same_uetr(demo_store: RefDataStore) -> None:
    result = find_duplicates(demo_store, uetr=DUP_UETR.upper(), value_date="2026-11-18")
    assert result["duplicates"][0]["match"] == "uetr" and result["duplicates"][0]["days_apart"] == 2


def test_own_record_is_not_its_own_duplicate(demo_store: RefDataStore) -> None:
    result = find_duplicates(demo_store, uetr=DUP_UETR, reference="PAYDUP0001")
    assert result == {"found": False, "count": 0, "duplicates": []}


def test_an_exact_resend_of_a_processed_payment_is_a_duplicate(demo_store: RefDataStore) -> None:
    """Same UETR, reference, amount, currency, beneficiary and value date: paid once already."""
    same = dict(
        uetr=DUP_UETR, reference="PAYDUP0001", amount="48250.00", currency="EUR", value_date="2026-11-16",
        creditor_iban=RHEINLAND_IBAN, creditor_name="Rheinland Chemie AG",
    )  # fmt: skip
    result = find_duplicates(demo_store, **same)
    assert result["found"] and result["duplicates"][0]["match"] == "exact"
    assert result["ref"] == "payment:PAYDUP0001"
    without_uetr = find_duplicates(demo_store, **{**same, "uetr": None})
    assert [d["match"] for d in without_uetr["duplicates"]] == ["fields"]  # no UETR to tie it: fields
    amended = find_duplicates(demo_store, **{**same, "amount": "48251.00"})
    assert amended == {"found": False, "count": 0, "duplicates": []}  # its own, amended record


def test_different_amount_or_beneficiary_is_no_duplicate(demo_store: RefDataStore) -> None:
    other_amount = find_duplicates(
        demo_store, amount="48250.01", currency="EUR", value_date="2026-11-17", creditor_iban=RHEINLAND_IBAN
    )
    other_beneficiary = find_duplicates(
        demo_store,
        amount="48250.00",
        currency="EUR",
        value_date="2026-11-17",
        creditor_iban="DE89370400440532013000",
    )
    by_name = find_duplicates(
        demo_store,
        amount="48250.00",
        currency="EUR",
        value_date="2026-11-17",
        creditor_name="RHEINLAND CHEMIE",
    )
    assert not other_amount["found"] and not other_beneficiary["found"]
    assert by_name["found"]  # no IBAN given: the creditor name decides


def test_bad_window_is_typed_error(demo_store: RefDataStore) -> None:
    with pytest.raises(ValidationError, match="window_days"):
        find_duplicates(demo_store, amount="1", currency="EUR", value_date="2026-11-17", window_days=-1)


def test_target_calendar() -> None:
    assert date(2026, 4, 3) in target_holidays(2026)  # Good Friday 2026
    assert date(2026, 4, 6) in target_holidays(2026)  # Easter Monday 2026
    # Thu 2026-12-24 -> Mon 2026-12-28: 25 Dec (Fri) and 26 Dec (Sat) closed, Sunday closed.
    assert business_days_between(date(2026, 12, 24), date(2026, 12, 28)) == 1
    assert add_months(date(2026, 1, 31), 13) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("value_date", "within_10", "within_13m"),
    [("2026-11-12", True, True), ("2026-01-12", False, True), ("2025-09-15", False, False)],
)
def test_recall_windows_for_story_payments(value_date: str, within_10: bool, within_13m: bool) -> None:
    result = check_recall_window(value_date, "SEPA", "2026-11-20")
    assert result["within_10_days"] is within_10 and result["within_13_months"] is within_13m
    assert result["ref"] == f"recall:{value_date}:2026-11-20"


def test_recall_clock_is_the_configured_one() -> None:
    with config.override(clock=FixedClock(date(2026, 11, 20))):
        result = check_recall_window("2026-11-06")
    # 9..20 Nov 2026: 10 business days (two weekends skipped) -> the last day of the window.
    assert result["business_days_since"] == 10 and result["within_10_days"]
    assert result["deadline_10_days"] == "2026-11-20"
