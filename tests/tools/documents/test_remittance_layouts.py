"""Remittance advices in layouts the generator does not make: the payment date and the invoices
settled come out of each (label above or beside its value, a header strip, a box, a sentence;
ruled, unruled and listed invoices), in English, German, French, Dutch, Spanish and Italian."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.tools.documents.remittance_layouts import HELD_OUT, LAYOUTS, Advice
from tools.documents.extractor import extract_pages
from tools.documents.layout import Page, Word
from tools.extract import extract_bytes


@pytest.mark.parametrize("make", LAYOUTS + HELD_OUT, ids=lambda make: make.__name__)
def test_payment_date_and_invoices_come_out(make: Callable[[], Advice]) -> None:
    advice = make()
    [extraction] = extract_bytes(advice.pdf, f"{advice.name}.pdf")
    remittance = extraction.remittance
    assert extraction.doc_type == "remittance_advice" and remittance is not None
    assert str(remittance.payment_date) == advice.payment_date
    paid = [(line.invoice_number, line.net_amount or line.amount) for line in remittance.lines]
    assert paid == [(number, Decimal(amount)) for number, amount in advice.lines]
    dated = next(f for f in extraction.fields if f.name == "remittance.payment_date")
    assert dated.source.page == 1 and dated.source.bbox  # the date's own box on the page


def _letter(*lines: str) -> list[Page]:
    words = [
        Word(text, 20.0 + 40 * i, 20.0 + 14 * row, 55.0 + 40 * i, 30.0 + 14 * row, 1)
        for row, line in enumerate(lines)
        for i, text in enumerate(line.split())
    ]
    return [Page(1, 595, 842, "pt", "text", words)]


def test_a_sentence_dates_the_payment_but_not_an_invoice_named_in_it() -> None:
    paid = extract_pages(_letter("Remittance advice", "We paid invoice 4711 dated 02.03.2025 today."), "a")
    assert paid.remittance is not None and paid.remittance.payment_date is None
    dated = extract_pages(
        _letter("Remittance advice", "Wir haben am 05.03.2025 die Rechnung 4711 bezahlt."), "b"
    )
    assert dated.remittance is not None and str(dated.remittance.payment_date) == "2025-03-05"
