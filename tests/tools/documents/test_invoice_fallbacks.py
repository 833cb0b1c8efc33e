"""Invoice fields that labels alone miss, on pages written here in several languages: due dates in
payment terms, the letterhead's issue date, a column of totals reconciled, label words that are names."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from tools.extract import extract_bytes


def _pdf(rows: list[tuple[str, str]], *, x_value: float = 120) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for left, right in rows:
        pdf.cell(x_value - 10, 7, left)
        pdf.cell(60, 7, right, new_x="LMARGIN", new_y="NEXT")
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("title", "number_label", "terms", "due"),
    [
        (
            "Rechnung",
            "Rechnungsnummer",
            "Zahlbar innerhalb 14 Tagen netto bis 15.03.2026.",
            date(2026, 3, 15),
        ),
        ("Invoice", "Invoice number", "EUR 10.00 due March 15, 2026", date(2026, 3, 15)),
        ("Fattura", "Numero fattura", "Pagabile entro il 15/03/2026 con bonifico.", date(2026, 3, 15)),
        ("Factura", "Numero de factura", "Fecha de vencimiento 15/03/2026", date(2026, 3, 15)),
        ("Factuur", "Factuurnummer", "Te betalen uiterlijk 15-03-2026.", date(2026, 3, 15)),
    ],
)
def test_due_date_in_payment_terms_and_letterhead_date(
    title: str, number_label: str, terms: str, due: date
) -> None:
    data = _pdf(
        [
            ("Kite Supplies GmbH", "Hamburg, 01.03.2026" if title != "Invoice" else "March 1, 2026"),
            (title, ""),
            (number_label, "KS-2026-041"),
            ("", ""),
            ("Total", "10,00 EUR" if title != "Invoice" else "10.00 EUR"),
            (terms, ""),
        ]
    )
    [extraction] = extract_bytes(data, "terms.pdf")
    rem = extraction.remittance
    assert rem is not None and extraction.doc_type == "invoice"
    assert rem.invoice_number == "KS-2026-041"
    assert rem.due_date == due
    assert rem.invoice_date == date(2026, 3, 1)


def test_column_of_totals_takes_the_reconciled_last_row() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 7, "Nordlicht Handel GmbH", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, "Rechnung", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, "Rechnungsnummer R-77", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    for cells in (
        ("Nettobetrag", "MwSt-%", "Endbetrag"),
        ("100,00", "19,0", "119,00"),
        ("50,00", "7,0", "53,50"),
        ("150,00", "EUR", "172,50"),
    ):
        for x, cell in zip((20, 80, 140), cells, strict=True):
            pdf.set_x(x)
            pdf.cell(40, 7, cell)
        pdf.ln(7)
    out = io.BytesIO()
    pdf.output(out)
    [extraction] = extract_bytes(out.getvalue(), "columns.pdf")
    assert extraction.remittance is not None
    assert extraction.remittance.total_amount == Decimal("172.50")


def test_label_word_with_legal_form_is_the_issuer_and_heading_is_not_a_name() -> None:
    data = _pdf(
        [
            ("Lieferant GmbH", ""),
            ("Lieferantenstrasse 20, 80333 Muenchen", ""),
            ("Rechnung", ""),
            ("Rechnungsnummer", "4711"),
            ("Rechnungsdatum", "05.03.2026"),
            ("Gesamtbetrag", "235,62 EUR"),
        ]
    )
    [extraction] = extract_bytes(data, "label-name.pdf")
    rem = extraction.remittance
    assert rem is not None and rem.payee is not None
    assert rem.payee.name == "Lieferant GmbH"


def test_every_payment_term_holds_a_word_the_prefilter_looks_for() -> None:
    """Payment terms are searched only in line pairs holding one of ``_TERM_WORDS``: each term's
    pieces (a term of two words crosses a line break only at its space) hold one."""
    from tools.documents.dates import _TERM_WORDS, _TERMS

    terms = _TERMS.pattern.removeprefix(r"\b(").removesuffix(r")\b").split("|")
    assert len(terms) > 20
    for term in terms:
        assert any(_TERM_WORDS.search(piece) for piece in term.split(" ")), term


@pytest.mark.parametrize(
    ("header", "terms", "due"),
    [
        # the date ends one line, its terms start the next: the pair is searched although the
        # date's line holds no term word
        (
            [
                ("Invoice", ""),
                ("Invoice number", "A-1001"),
                ("Invoice date", "01/03/2026"),
                ("Total", "EUR 10.00"),
            ],
            ["By 15/03/2026 at the latest,", "payable without deduction."],
            date(2026, 3, 15),
        ),
        # figures before the keyword on the next line (an OCR'd BIC split in two) make it no
        # total's label: only an amount after it does
        (
            [
                ("Rechnung", ""),
                ("Rechnungsnummer", "R-1001"),
                ("Rechnungsdatum", "05.03.2026"),
                ("Gesamtbetrag", "529,87 EUR"),
            ],
            [
                "Der Betrag wird am 20.03.2026 von Ihrem Konto",
                "und BIC MARKDEF 1860 per SEPA-Lastschrift eingezogen.",
            ],
            date(2026, 3, 20),
        ),
    ],
)
def test_terms_across_two_lines_give_the_due_date(
    header: list[tuple[str, str]], terms: list[str], due: date
) -> None:
    [extraction] = extract_bytes(_pdf(header + [(line, "") for line in terms]), "terms.pdf")
    assert extraction.remittance is not None and extraction.remittance.due_date == due


def test_an_ocr_misread_term_word_tesseract_doubts_still_gives_the_due_date() -> None:
    """ "Bitte iberweisen Sie bis zum 04.07.2015." (OCR's "iberweisen", confidence 0.83): a doubted
    word one letter from a term word reads as it; a sure one does not."""
    from tools.documents.extractor import extract_pages
    from tools.documents.layout import Page, Word

    def page(confidence: float) -> Page:
        lines = [
            [("Rechnung", 0.95), ("Nr.", 0.95), ("503", 0.95)],
            [("Gesamtbetrag", 0.95), ("571,04", 0.95)],
            [
                ("Bitte", 0.95),
                ("iberweisen", confidence),
                ("Sie", 0.95),
                ("bis", 0.95),
                ("04.07.2015.", 0.95),
            ],
        ]
        words = []
        for row, line in enumerate(lines):
            x = 40.0
            for text, sure in line:
                words.append(Word(text, x, 100.0 + 14 * row, x + 6 * len(text), 110.0 + 14 * row, 1, sure))
                x += 6 * len(text) + 6
        return Page(1, 595.0, 842.0, "pt", "ocr", words)

    doubted = extract_pages([page(0.83)], "scan.pdf").remittance
    assert doubted is not None and doubted.due_date == date(2015, 7, 4)
    sure = extract_pages([page(0.95)], "scan.pdf").remittance
    assert sure is not None and sure.due_date is None
