"""Field-level scoring of an extraction against a generated document's truth."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

from tools.messages.model import Extraction

HEADER = ["payer", "payee", "payment_date", "payment_reference", "currency", "total_amount", "iban", "bic"]
LINE = ["invoice_number", "invoice_date", "amount", "discount", "net_amount"]


def _norm(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value.normalize())
    return re.sub(r"\s+", " ", str(value)).strip().casefold() if value is not None else ""


def score(extraction: Extraction, truth: dict[str, Any], layout: str) -> Counter[str]:
    """Counter of ``field`` -> correct and ``field:total`` -> expected, per field name."""
    counts: Counter[str] = Counter()
    rem = extraction.remittance
    got: dict[str, Any] = {}
    if rem is not None:
        got = {
            "payer": rem.payer.name if rem.payer else None,
            "payee": rem.payee.name if rem.payee else None,
            "payment_date": rem.payment_date,
            "payment_reference": rem.payment_reference,
            "currency": rem.currency,
            "total_amount": rem.total_amount,
            "iban": rem.iban,
            "bic": rem.bic,
        }
    for name in HEADER:
        counts[f"{name}:total"] += 1
        counts[name] += _norm(got.get(name)) == _norm(truth[name])
    lines = rem.lines if rem is not None else []
    fields = ["invoice_number", "invoice_date", "amount"] if layout == "letter" else LINE
    for index, expected in enumerate(truth["lines"]):
        actual = lines[index] if index < len(lines) else None
        for name in fields:
            want = expected["net_amount"] if (layout == "letter" and name == "amount") else expected[name]
            counts[f"line.{name}:total"] += 1
            counts[f"line.{name}"] += actual is not None and _norm(getattr(actual, name)) == _norm(want)
    return counts


def accuracy(counts: Counter[str]) -> float:
    total = sum(v for k, v in counts.items() if k.endswith(":total"))
    right = sum(v for k, v in counts.items() if not k.endswith(":total"))
    return right / total if total else 0.0


def per_field(counts: Counter[str]) -> dict[str, float]:
    return {
        k[: -len(":total")]: counts[k[: -len(":total")]] / v
        for k, v in counts.items()
        if k.endswith(":total") and v
    }
