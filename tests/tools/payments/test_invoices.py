"""Invoice matching: exact, subset-sum, discounts, partial payments, ambiguity and bounds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tools.db import get_engine
from tools.errors import ValidationError
from tools.payments.invoices import match_invoices
from tools.payments.subset_sum import best_subset
from tools.refdata.loader import load
from tools.refdata.store import RefDataStore


def _numbers(result: dict) -> list[str]:
    return sorted(i["invoice_number"] for i in result["invoices"])


def test_single_invoice_exact(demo_store: RefDataStore) -> None:
    result = match_invoices(demo_store, "C-1005", "2999.99", "GBP")
    assert result["match_type"] == "exact" and _numbers(result) == ["INV-5004"]
    assert result["ref"] == "invoice:INV-5004" and result["difference"] == "0.00"


def test_subset_sum_without_references(demo_store: RefDataStore) -> None:
    result = match_invoices(demo_store, "C-1005", "2000.50", "GBP")
    assert result["match_type"] == "subset" and result["found"]
    assert _numbers(result) == ["INV-5001", "INV-5002"] and result["matched_total"] == "2000.50"


def test_subset_sum_in_jpy(demo_store: RefDataStore) -> None:
    result = match_invoices(demo_store, "C-1010", 1730000, "JPY")
    assert result["match_type"] == "subset" and _numbers(result) == ["INV-10001", "INV-10002"]
    assert result["matched_total"] == "1730000" and result["difference"] == "0"


def test_tolerance(demo_store: RefDataStore) -> None:
    assert match_invoices(demo_store, "C-1005", "2000.49", "GBP")["match_type"] == "subset"
    assert match_invoices(demo_store, "C-1005", "2000.40", "GBP")["match_type"] == "none"
    wide = match_invoices(demo_store, "C-1005", "2000.40", "GBP", tolerance="0.10")
    assert wide["match_type"] == "subset" and wide["difference"] == "-0.10"


def test_discount_with_own_terms(demo_store: RefDataStore) -> None:
    result = match_invoices(demo_store, "C-1006", "9800.00", "CHF", payment_date="2026-11-20")
    assert result["match_type"] == "discount" and _numbers(result) == ["INV-6001"]
    assert result["discount_amount"] == "200.00" and result["discount_rate"] == "0.02"
    late = match_invoices(demo_store, "C-1006", "9800.00", "CHF", payment_date="2026-12-01")
    assert late["match_type"] == "none"


def test_discount_with_default_rate(demo_store: RefDataStore) -> None:
    result = match_invoices(demo_store, "C-1006", "4365.00", "CHF")
    assert result["match_type"] == "discount" and _numbers(result) == ["INV-6002"]
    assert result["discount_rate"] == "0.03"


def test_discount_on_referenced_invoices(demo_store: RefDataStore) -> None:
    # INV-6001 carries its own 2 %; INV-6002 has no terms, so 2 % and then 3 % are tried for it.
    refs = ["Skonto INV-6001, INV-6002"]
    mixed = match_invoices(demo_store, "C-1006", "14165.00", "CHF", references=refs)  # 9800 + 4365
    assert mixed["match_type"] == "discount" and mixed["referenced"] == ["INV-6001", "INV-6002"]
    assert mixed["discount_amount"] == "335.00" and mixed["discount_rate"] is None  # two rates
    uniform = match_invoices(demo_store, "C-1006", "14210.00", "CHF", references=refs)  # 9800 + 4410
    assert uniform["discount_amount"] == "290.00" and uniform["discount_rate"] == "0.02"
    short = match_invoices(demo_store, "C-1006", "14000.00", "CHF", references=refs)
    assert short["match_type"] == "partial" and short["difference"] == "-500.00"


def test_short_payment_with_references(demo_store: RefDataStore) -> None:
    result = match_invoices(
        demo_store, "C-1007", "7250.00", "EUR", references=["Payment INV-7001 / INV-7002"]
    )
    assert result["match_type"] == "partial" and result["found"]
    assert result["matched_total"] == "7500.00" and result["difference"] == "-250.00"


def test_references_are_whole_tokens_and_unknown_ones_reported(demo_store: RefDataStore) -> None:
    result = match_invoices(demo_store, "C-1007", "5000.00", "EUR", references=["INV-70011", "INV-7001"])
    assert result["referenced"] == ["INV-7001"] and result["unmatched_references"] == ["INV-70011"]
    assert result["match_type"] == "exact"


def test_no_invoices_and_wrong_currency(demo_store: RefDataStore) -> None:
    assert match_invoices(demo_store, "C-1005", "2000.50", "EUR")["match_type"] == "none"
    assert match_invoices(demo_store, "C-9999", "1.00", "EUR")["found"] is False


def test_ambiguous_subsets_are_not_a_match(tmp_path: Path) -> None:
    store = RefDataStore(get_engine(f"sqlite:///{tmp_path / 'amb.db'}"))
    invoices = [
        {"invoice_number": n, "customer_id": "C-1", "currency": "EUR", "amount": a}
        for n, a in [("A", "100.00"), ("B", "200.00"), ("C", "300.00")]
    ]
    load({"customers": [{"customer_id": "C-1", "name": "X"}], "open_invoices": invoices}, store)
    result = match_invoices(store, "C-1", "300.00", "EUR")  # {C} or {A, B}
    assert result["match_type"] == "none" and not result["found"] and result["ambiguous"]
    assert result["ambiguous_type"] in {"exact", "subset"} and result["invoices"] == []
    assert match_invoices(store, "C-1", "500.00", "EUR")["invoices"][0]["invoice_number"] == "B"


def test_bad_arguments_raise_typed_errors(demo_store: RefDataStore) -> None:
    with pytest.raises(ValidationError, match="currency"):
        match_invoices(demo_store, "C-1005", "1.00", "XYZ")
    with pytest.raises(ValidationError, match="amount"):
        match_invoices(demo_store, "C-1005", "1,00", "GBP")
    with pytest.raises(ValidationError):
        match_invoices(demo_store, "C-1005", "-1.00", "GBP")


def test_subset_sum_ambiguity_and_bounds() -> None:
    both = best_subset([100, 200, 300], 300)  # {300} and {100, 200}
    assert both is not None and both.ways == 2
    unique = best_subset([120000, 80050, 34520, 299999], 200050)
    assert unique is not None and unique.indices == (0, 1) and unique.ways == 1
    assert best_subset([100, 250], 300) is None
    values = [1000 + 7919 * i for i in range(60)]
    start = time.perf_counter()
    bounded = best_subset(values, sum(values[:25]))
    assert time.perf_counter() - start < 3.0
    assert bounded is not None and bounded.truncated
