"""A remittance letter's date is its payment date only when the letter says the money went out today."""

from __future__ import annotations

import pytest

from tests.tools.documents.generator import LANGUAGES, make_doc
from tools.documents import extract_document
from tools.documents.letter import says_paid_today


@pytest.mark.parametrize(
    "text",
    [
        "we have today transferred EUR 1,234.56 to your account",
        "wir haben heute EUR 1.234,56 auf Ihr Konto überwiesen",
        "nous avons viré ce jour EUR 1 234,56 sur votre compte",
        "nous avons aujourd'hui payé la facture",
        "vandaag hebben wij EUR 1.234,56 overgemaakt naar uw rekening",
        "hoy hemos transferido EUR 1.234,56 a su cuenta",
    ],
)
def test_paid_today_cues(text: str) -> None:
    assert says_paid_today(text)


@pytest.mark.parametrize(
    "text",
    [
        "we transferred EUR 1,234.56 on 3 May",  # a transfer, but not today
        "today we write to remind you of the open invoices",  # today, but no transfer
        "wir werden den Betrag nächste Woche überweisen",
    ],
)
def test_no_cue_no_letter_date(text: str) -> None:
    assert not says_paid_today(text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_letter_date_is_the_payment_date(lang: str) -> None:
    doc = make_doc("letter", lang, 5)
    [extraction] = extract_document(doc.pdf, "letter.pdf")
    assert extraction.remittance is not None
    assert extraction.remittance.payment_date == doc.expected["payment_date"]
    field = next(f for f in extraction.fields if f.name == "remittance.payment_date")
    # The generator prints the date at x=400, 200 pt from the top; a letter date is less certain
    # than a labelled one.
    assert field.source.page == 1 and field.source.bbox is not None
    assert field.source.bbox[0] == pytest.approx(400, abs=1) and 185 < field.source.bbox[3] < 205
    assert field.confidence <= 0.8


def test_letter_without_cue_has_no_payment_date() -> None:
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for y, text in [
        (800, "Northwind Traders Ltd"),
        (760, "3 May 2025"),
        (720, "Remittance Advice"),
        (700, "We will transfer GBP 1,234.56 for invoice INV-00123 of 2 Apr 2025 next week."),
    ]:
        pdf.drawString(50, y, text)
    pdf.save()
    [extraction] = extract_document(buffer.getvalue(), "letter.pdf")
    assert extraction.remittance is not None and extraction.remittance.payment_date is None
