"""Agent metrics broken down by segment: exception code, message format, documents, currency, amount.

Segments are read cheaply from the case as submitted (no parsing beyond a field lookup or a regex on
the MT ``:32A:``/``:33B:`` line or the MX ``Ccy=`` amount), so every agent-style suite can afford them.
The breakdown goes into the run's ``metrics.json`` under ``suites.<suite>.segments``; the gate keeps
reading the overall metrics.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_MT_AMOUNT = re.compile(r":32A:\d{6}([A-Z]{3})([\d,]+)")
_MX_AMOUNT = re.compile(r'Ccy="([A-Z]{3})"\s*>\s*([\d.]+)\s*<')
BANDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(1_000), "<1k"),
    (Decimal(10_000), "1k-10k"),
    (Decimal(100_000), "10k-100k"),
    (Decimal(1_000_000), "100k-1M"),
)


def message_format(case: dict[str, Any]) -> str:
    message = str(case.get("message") or "").lstrip()
    if message.startswith("<"):
        return "MX"
    if message:
        return "MT"
    return "JSON" if case.get("payment") else "none"


def _currency_amount(case: dict[str, Any]) -> tuple[str | None, Decimal | None]:
    payment = case.get("payment")
    if isinstance(payment, dict):
        amount = payment.get("amount")
        if isinstance(amount, dict):  # {"value": ..., "currency": ...}
            return amount.get("currency") or payment.get("currency"), _decimal(amount.get("value"))
        return payment.get("currency"), _decimal(amount)
    message = str(case.get("message") or "")
    if found := _MT_AMOUNT.search(message):
        return found.group(1), _decimal(found.group(2).replace(",", "."))
    if found := _MX_AMOUNT.search(message):
        return found.group(1), _decimal(found.group(2))
    return None, None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def amount_band(amount: Decimal | None) -> str:
    if amount is None:
        return "unknown"
    return next((name for limit, name in BANDS if amount < limit), ">=1M")


def segments_of(case: dict[str, Any]) -> dict[str, str]:
    currency, amount = _currency_amount(case)
    return {
        "exception_code": str(case.get("exception_code") or "none"),
        "format": message_format(case),
        "documents": "yes" if case.get("documents") else "no",
        "currency": currency or "unknown",
        "amount_band": amount_band(amount),
    }


def breakdown(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{segment: {value: {"n": rows, metric: mean}}}`` over rows carrying ``segments`` and ``metrics``."""
    sums: dict[str, dict[str, dict[str, list[float]]]] = {}
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        for segment, value in (row.get("segments") or {}).items():
            counts.setdefault(segment, {}).setdefault(value, 0)
            counts[segment][value] += 1
            bucket = sums.setdefault(segment, {}).setdefault(value, {})
            for name, metric in row.get("metrics", {}).items():
                if metric is not None and metric == metric:
                    bucket.setdefault(name, []).append(float(metric))
    return {
        segment: {
            value: {"n": counts[segment][value]}
            | {name: sum(vals) / len(vals) for name, vals in sorted(sums[segment][value].items())}
            for value in sorted(values)
        }
        for segment, values in sorted(counts.items())
    }
