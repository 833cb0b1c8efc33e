"""Invoice matching for remittances: which of the customer's open invoices does a payment settle?

Order of attempts: the invoices the payment references (exact, early-payment discount, or
partial = short or over paid), then without usable references a single invoice, a unique subset of
open invoices (bounded subset-sum), and a unique subset at a discount. An answer that more than one
combination fits is ``match_type: none`` with ``ambiguous: true`` (the first combination is in
``candidate_invoices``): a repair must not pick one.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from tools.errors import ValidationError
from tools.messages.currencies import minor_units
from tools.payments.common import amount_arg, currency_arg, date_arg, format_amount, text_arg, to_minor
from tools.payments.subset_sum import best_subset
from tools.refdata.schema import OpenInvoice
from tools.refdata.store import RefDataStore

DEFAULT_DISCOUNT_RATES = (Decimal("0.02"), Decimal("0.03"))  # usual skonto when an invoice states none
_MAX_REFERENCES = 100


def match_invoices(
    store: RefDataStore,
    customer_id: str,
    amount: Any,
    currency: str,
    references: list[str] | None = None,
    tolerance: Any = "0.01",
    payment_date: Any = None,
) -> dict[str, Any]:
    """Match a received ``amount`` against ``customer_id``'s open invoices in ``currency``.

    ``references`` are texts seen in the message or documents (a string, or lists of strings,
    nested up to three deep, ``None`` entries ignored); an open invoice counts as referenced when
    its number appears in one of them as a whole token. ``tolerance`` is an absolute amount.
    ``payment_date``, when given, excludes discounts whose ``discount_until`` has passed.

    Result: ``match_type`` (``exact``/``subset``/``discount``/``partial``/``none``), ``invoices``
    [{``invoice_number``, ``amount``, ``due_date``, ``ref`` = ``invoice:<number>``}],
    ``matched_total`` (gross), ``difference`` (amount - expected, where expected is the net after
    any discount), ``discount_amount``, ``discount_rate``, ``ambiguous``, ``truncated``,
    ``referenced`` (invoice numbers found in ``references``), ``unmatched_references``, ``found``,
    ``ref`` (the invoice refs joined with ``+``). Amounts are strings with the currency's decimals.
    """
    wanted = text_arg(customer_id, "customer_id", max_len=64)
    code = currency_arg(currency)
    paid = amount_arg(amount)
    band = amount_arg(tolerance, "tolerance")
    if paid <= 0 or band < 0:
        raise ValidationError("amount must be positive and tolerance not negative", source="amount")
    on = date_arg(payment_date, "payment_date") if payment_date else None
    texts = _reference_texts(references)
    invoices = store.open_invoices_of(wanted, code) if wanted else []
    ctx = _Context(code, paid, _quantise_tolerance(band, code), on)

    referenced = [inv for inv in invoices if any(_mentions(text, inv.invoice_number) for text in texts)]
    unmatched = [t for t in texts if not any(_mentions(t, inv.invoice_number) for inv in invoices)]
    outcome = ctx.referenced(referenced) if referenced else ctx.search(invoices)
    outcome["referenced"] = [inv.invoice_number for inv in referenced]
    outcome["unmatched_references"] = unmatched
    outcome["customer_id"] = wanted
    outcome["currency"] = code
    outcome["amount"] = format_amount(paid, code)
    return outcome


class _Context:
    def __init__(self, currency: str, paid: Decimal, tolerance: Decimal, on: date | None) -> None:
        self.currency = currency
        self.paid = paid
        self.tolerance = tolerance
        self.on = on

    def referenced(self, invoices: list[OpenInvoice]) -> dict[str, Any]:
        gross = sum((inv.amount for inv in invoices), Decimal(0))
        if abs(self.paid - gross) <= self.tolerance:
            return self.result("exact", invoices)
        for rate in self._rates(invoices):
            net = sum((self._net(inv, rate) for inv in invoices), Decimal(0))
            if net != gross and abs(self.paid - net) <= self.tolerance:
                return self.result("discount", invoices, rate=rate)
        return self.result("partial", invoices)

    def search(self, invoices: list[OpenInvoice]) -> dict[str, Any]:
        if not invoices:
            return self.result("none", [])
        target = to_minor(self.paid.quantize(_unit(self.currency)), self.currency)
        tol = to_minor(self.tolerance, self.currency)
        gross = [to_minor(inv.amount, self.currency) for inv in invoices]
        match = best_subset(gross, target, tol)
        if match is not None:
            kind = "exact" if len(match.indices) == 1 else "subset"
            return self.result(
                kind, [invoices[i] for i in match.indices], ways=match.ways, truncated=match.truncated
            )
        for rate in self._rates(invoices):
            nets = [to_minor(self._net(inv, rate), self.currency) for inv in invoices]
            match = best_subset(nets, target, tol)
            if match is not None and any(nets[i] != gross[i] for i in match.indices):
                chosen = [invoices[i] for i in match.indices]
                return self.result("discount", chosen, rate=rate, ways=match.ways, truncated=match.truncated)
        return self.result("none", [])

    def _rates(self, invoices: list[OpenInvoice]) -> list[Decimal | None]:
        """``None`` = each invoice's own terms; then the default rates for invoices without terms."""
        rates: list[Decimal | None] = []
        if any(inv.discount_rate for inv in invoices):
            rates.append(None)
        if any(inv.discount_rate is None for inv in invoices):
            rates.extend(DEFAULT_DISCOUNT_RATES)
        return rates

    def _net(self, invoice: OpenInvoice, rate: Decimal | None) -> Decimal:
        """The invoice's amount after an early-payment discount, rounded to the currency."""
        own = invoice.discount_rate
        applied = own if own is not None else rate
        if applied is None or not self._discount_open(invoice):
            return invoice.amount
        return (invoice.amount * (1 - applied)).quantize(_unit(self.currency), rounding=ROUND_HALF_UP)

    def _discount_open(self, invoice: OpenInvoice) -> bool:
        return self.on is None or invoice.discount_until is None or self.on <= invoice.discount_until

    def result(
        self,
        kind: str,
        invoices: list[OpenInvoice],
        *,
        rate: Decimal | None = None,
        ways: int = 1,
        truncated: bool = False,
    ) -> dict[str, Any]:
        gross = sum((inv.amount for inv in invoices), Decimal(0))
        net = sum((self._net(inv, rate) for inv in invoices), Decimal(0)) if kind == "discount" else gross
        rates = {inv.discount_rate if inv.discount_rate is not None else rate for inv in invoices} - {None}
        ambiguous = ways > 1
        if ambiguous:
            # Several combinations fit: report none, with the first one as a hint for the analyst.
            return {
                **self.result("none", []),
                "ambiguous": True,
                "ambiguous_type": kind,
                "candidate_invoices": [inv.invoice_number for inv in invoices],
                "truncated": truncated,
            }
        found = kind != "none"
        lines: list[dict[str, Any]] = [
            {
                "invoice_number": inv.invoice_number,
                "amount": format_amount(inv.amount, self.currency),
                "due_date": inv.due_date.isoformat() if inv.due_date else None,
                "ref": f"invoice:{inv.invoice_number}",
            }
            for inv in invoices
        ]
        result: dict[str, Any] = {
            "match_type": kind,
            "found": found,
            "invoices": lines,
            "matched_total": format_amount(gross, self.currency),
            "difference": format_amount(self.paid - net, self.currency),
            "discount_amount": format_amount(gross - net, self.currency) if kind == "discount" else None,
            "discount_rate": f"{rates.pop():f}" if kind == "discount" and len(rates) == 1 else None,
            "ambiguous": ambiguous,
            "truncated": truncated,
        }
        if lines:
            result["ref"] = "+".join(line["ref"] for line in lines)
        return result


def _unit(currency: str) -> Decimal:
    places = minor_units(currency)
    return Decimal(1).scaleb(-(2 if places is None else places))


def _quantise_tolerance(tolerance: Decimal, currency: str) -> Decimal:
    """The tolerance rounded down to the currency's unit (JPY: 0.01 becomes 0)."""
    return tolerance.quantize(_unit(currency), rounding=ROUND_DOWN)


def _reference_texts(references: Any) -> list[str]:
    """The reference texts, flattened: playbooks pass lists of lists with gaps (``None``)."""
    found: list[str] = []

    def walk(item: Any, depth: int) -> None:
        if item is None:
            return
        if isinstance(item, str):
            found.append(text_arg(item, "references", max_len=2000))
        elif isinstance(item, int) and not isinstance(item, bool):
            found.append(str(item))  # an invoice number written as a bare number
        elif isinstance(item, list | tuple) and depth < 3:
            for inner in item:
                walk(inner, depth + 1)
        else:
            raise ValidationError(f"expected strings, got {type(item).__name__}", source="references")
        if len(found) > _MAX_REFERENCES:
            raise ValidationError(f"more than {_MAX_REFERENCES} references", source="references")

    walk(references, 0)
    return [text for text in found if text]


def _mentions(text: str, invoice_number: str) -> bool:
    """``invoice_number`` appears in ``text`` as a whole token, ignoring case."""
    pattern = r"(?<![A-Za-z0-9])" + re.escape(invoice_number) + r"(?![A-Za-z0-9])"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None
