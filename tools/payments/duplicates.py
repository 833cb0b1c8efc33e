"""Duplicate search over recent payments: the same UETR, or the same amount, currency and
beneficiary within a window of days around the value date."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tools.errors import ValidationError
from tools.payments.common import amount_arg, compact, currency_arg, date_arg, text_arg
from tools.payments.names import name_similarity
from tools.refdata.schema import PaymentRecord
from tools.refdata.store import RefDataStore

NAME_THRESHOLD = 0.9  # a creditor name this close counts as the same beneficiary
MAX_WINDOW_DAYS = 400


def find_duplicates(
    store: RefDataStore,
    uetr: str | None = None,
    reference: str | None = None,
    amount: Any = None,
    currency: str | None = None,
    creditor_name: str | None = None,
    creditor_iban: str | None = None,
    value_date: Any = None,
    window_days: int = 5,
) -> dict[str, Any]:
    """Earlier payments that this one may duplicate.

    A stored payment matches by ``uetr`` when its UETR equals ``uetr``, or by ``fields`` when the
    amount and currency are equal, the value dates are at most ``window_days`` apart, and the
    beneficiary is the same (equal creditor IBAN, or, when either IBAN is unknown, a creditor name
    scoring >= 0.9). The payments table holds payments already processed. A stored record with the
    same ``reference`` and UETR is the same instruction: when amount, currency, value date and
    beneficiary are given and all equal too, it was already paid once and this is an exact resend
    (``match: exact``, the most certain duplicate of all: releasing it pays twice); otherwise (only
    the identifiers given, or fields that differ) it is the case's own record and is skipped.

    Result: ``found``, ``count``, ``duplicates`` [{``reference``, ``uetr``, ``amount``, ``currency``,
    ``value_date``, ``creditor_name``, ``creditor_iban``, ``days_apart``, ``match``, ``ref`` =
    ``payment:<reference>``}] (UETR matches first, then by closeness), ``ref`` of the first.
    """
    wanted_uetr = text_arg(uetr, "uetr", max_len=64).lower() if uetr else None
    own_reference = text_arg(reference, "reference", max_len=64) if reference else None
    if (
        not isinstance(window_days, int)
        or isinstance(window_days, bool)
        or not 0 <= window_days <= MAX_WINDOW_DAYS
    ):
        raise ValidationError(f"expected whole days between 0 and {MAX_WINDOW_DAYS}", source="window_days")

    day = date_arg(value_date, "value_date") if value_date else None
    paid = amount_arg(amount) if amount is not None else None
    code = currency_arg(currency) if currency else None
    iban = compact(text_arg(creditor_iban, "creditor_iban", max_len=64)) if creditor_iban else None
    name = text_arg(creditor_name, "creditor_name", max_len=200) if creditor_name else None

    def identical(record: PaymentRecord) -> bool:
        return (
            paid is not None
            and record.amount == paid
            and record.currency == code
            and record.value_date == day
            and (bool(iban) or bool(name))
            and _same_beneficiary(record, iban, name)
        )

    found: dict[str, dict[str, Any]] = {}
    if wanted_uetr:
        for record in store.payments_by_uetr(wanted_uetr):
            apart = abs((record.value_date - day).days) if day else None
            if record.reference == own_reference:
                if identical(record):
                    found[record.reference] = _describe(record, "exact", apart)
                continue  # otherwise the case's own payment, stored already
            found[record.reference] = _describe(record, "uetr", apart)

    if paid is not None and code and day:
        window = timedelta(days=window_days)
        for record in store.payments_between(code, day - window, day + window):
            if record.reference in found or record.amount != paid:
                continue
            if own_reference and record.reference == own_reference and record.uetr == wanted_uetr:
                if identical(record):
                    found[record.reference] = _describe(record, "exact", 0)
                continue
            if _same_beneficiary(record, iban, name):
                found[record.reference] = _describe(record, "fields", abs((record.value_date - day).days))

    order = {"exact": 0, "uetr": 1, "fields": 2}
    duplicates = sorted(
        found.values(), key=lambda d: (order[d["match"]], d["days_apart"] or 0, d["reference"])
    )
    result: dict[str, Any] = {"found": bool(duplicates), "count": len(duplicates), "duplicates": duplicates}
    if duplicates:
        result["ref"] = duplicates[0]["ref"]
    return result


def _same_beneficiary(record: PaymentRecord, iban: str | None, name: str | None) -> bool:
    if iban and record.creditor_iban:
        return iban == record.creditor_iban
    if name and record.creditor_name:
        return name_similarity(name, record.creditor_name).score >= NAME_THRESHOLD
    return False


def _describe(record: PaymentRecord, match: str, days_apart: int | None) -> dict[str, Any]:
    return {
        "reference": record.reference,
        "uetr": record.uetr,
        "amount": f"{record.amount:f}",
        "currency": record.currency,
        "value_date": record.value_date.isoformat(),
        "creditor_name": record.creditor_name,
        "creditor_iban": record.creditor_iban,
        "days_apart": days_apart,
        "match": match,
        "ref": f"payment:{record.reference}",
    }
