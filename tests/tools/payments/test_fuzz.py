"""Fuzzed arguments: every evidence function returns a dict or raises a typed error, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.errors import RepairDeskError
from tools.payments.banks import lookup_bic, search_banks
from tools.payments.codes import lookup_reason_code
from tools.payments.customers import find_customer, get_customer, lookup_account
from tools.payments.duplicates import find_duplicates
from tools.payments.iban import validate_iban
from tools.payments.investigation import draft_investigation
from tools.payments.invoices import match_invoices
from tools.payments.recall import check_recall_window
from tools.payments.ssi import get_ssi
from tools.refdata.store import RefDataStore

# Text that looks like payment data as well as noise: IBAN-ish, amounts, dates, unicode.
texts = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"[A-Z]{2}[0-9]{2}[A-Z0-9 ]{8,30}", fullmatch=True),
    st.from_regex(r"-?[0-9]{1,12}([.,][0-9]{0,4})?", fullmatch=True),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.dates().map(str),  # includes 0001-01-01 and 9999-12-31: date arithmetic must not overflow
    st.sampled_from(["C-1005", "EUR", "JPY", "GBP", "", " ", "NaN", "Infinity", "1e999", "INV-5001"]),
)
anything = st.one_of(
    texts, st.none(), st.integers(), st.floats(allow_nan=True), st.lists(st.text(max_size=5), max_size=3)
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _never_raw(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        result = func(*args, **kwargs)
    except RepairDeskError:
        return
    assert isinstance(result, dict)


@FUZZ
@given(value=anything)
def test_single_argument_tools(demo_store: RefDataStore, value: Any) -> None:
    _never_raw(validate_iban, value)
    _never_raw(lookup_bic, value, demo_store)
    _never_raw(get_customer, demo_store, value)
    _never_raw(lookup_account, demo_store, value)
    _never_raw(lookup_reason_code, value)
    _never_raw(check_recall_window, value, None, "2026-11-20")


@FUZZ
@given(name=anything, country=anything)
def test_name_searches(demo_store: RefDataStore, name: Any, country: Any) -> None:
    _never_raw(search_banks, name, country, demo_store)
    _never_raw(find_customer, demo_store, name, country)


@FUZZ
@given(customer=anything, currency=anything, name=anything, iban=anything)
def test_get_ssi(demo_store: RefDataStore, customer: Any, currency: Any, name: Any, iban: Any) -> None:
    _never_raw(get_ssi, demo_store, customer, currency, name, iban)


@FUZZ
@given(amount=anything, currency=anything, refs=anything, tolerance=anything, day=anything)
def test_match_invoices(
    demo_store: RefDataStore, amount: Any, currency: Any, refs: Any, tolerance: Any, day: Any
) -> None:
    _never_raw(match_invoices, demo_store, "C-1005", amount, currency, refs, tolerance, day)


@FUZZ
@given(
    uetr=anything, amount=anything, currency=anything, day=anything, window=st.one_of(st.integers(), anything)
)
def test_find_duplicates(
    demo_store: RefDataStore, uetr: Any, amount: Any, currency: Any, day: Any, window: Any
) -> None:
    _never_raw(find_duplicates, demo_store, uetr=uetr, amount=amount, currency=currency, value_date=day,
               creditor_name="Rheinland Chemie AG", window_days=window)  # fmt: skip


@FUZZ
@given(kind=st.one_of(st.sampled_from(["mt199", "camt.056", "camt.029"]), anything), reason=anything,
       payment=st.one_of(st.none(), st.dictionaries(st.sampled_from(["reference", "amount", "sender_bic",
       "receiver_bic", "creditor", "uetr"]), anything, max_size=6)))  # fmt: skip
def test_draft_investigation(kind: Any, reason: Any, payment: Any) -> None:
    _never_raw(draft_investigation, kind, reason, payment)


@pytest.mark.parametrize("amount", ["1e999", "NaN", "Infinity", "9" * 39, "0.000000001"])
def test_extreme_amounts(demo_store: RefDataStore, amount: str) -> None:
    _never_raw(match_invoices, demo_store, "C-1005", amount, "GBP")
    _never_raw(find_duplicates, demo_store, amount=amount, currency="EUR", value_date="2026-11-17")
