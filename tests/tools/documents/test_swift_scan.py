"""Printed SWIFT messages: OCR repair of confusions the field formats make unambiguous, then the MT parser."""

from __future__ import annotations

import io
import shutil

import pytest

from tests.conftest import require
from tools.documents import extract_document
from tools.documents.swift_scan import fix_bic, fix_iban, looks_like_fin, repair_fin

MT103 = """{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{4:
:20:REF20240915001
:23B:CRED
:32A:240916EUR12345,67
:50K:/BE68539007547034
ACME WIDGETS NV
RUE DE LA LOI 1
1000 BRUSSELS
:52A:GEBABEBB
:57A:COBADEFFXXX
:59:/DE89370400440532013000
MUELLER MASCHINENBAU GMBH
HAUPTSTRASSE 12
10115 BERLIN
:70:INV 2024-0815
:71A:SHA
-}"""


def test_repairs_only_what_the_format_makes_unambiguous() -> None:
    ocr = (
        MT103.replace(":32A:240916EUR12345,67", ": 32A: 24O9I6EUR12345, 67")
        .replace(":52A:GEBABEBB", ":52A:GE8ABEBB")
        .replace("/DE89370400440532013000", "/DE8937O400440532013000")
    )
    repaired, findings = repair_fin(ocr)
    assert ":32A:240916EUR12345,67" in repaired
    assert ":52A:GEBABEBB" in repaired
    assert ":59:/DE89370400440532013000" in repaired
    assert "MUELLER MASCHINENBAU GMBH" in repaired  # free text is left alone
    assert {f.field for f in findings} == {"32A", "52A", "59"}
    assert all(f.code == "OCR_CORRECTION" for f in findings)
    assert looks_like_fin(ocr)


def test_bic_and_iban_repair() -> None:
    assert fix_bic("C0BADEFFXXX") == "COBADEFFXXX"
    assert fix_iban("DE8937O400440532013000") == "DE89370400440532013000"
    assert fix_iban("NL5S8RABO0198723202") == "NL58RABO0198723202"


def _printed(text: str) -> bytes:
    import pypdfium2 as pdfium
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setFont("Courier", 10)
    for number, line in enumerate(text.splitlines()):
        pdf.drawString(60, 760 - 13 * number, line)
    pdf.save()
    page = pdfium.PdfDocument(buffer.getvalue())[0]
    image = page.render(scale=300 / 72, grayscale=True).to_pil().rotate(0.8, fillcolor=255)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.slow
def test_printed_mt103_parses_back_to_the_original() -> None:
    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    try:
        from tools.messages.swift import parse_fin
    except ImportError:
        require(False, "tools.messages.swift (the MT parser) is not available")
        return
    [original] = parse_fin(MT103, "original.fin")
    [scanned] = extract_document(_printed(MT103), "mt103.png")
    assert scanned.doc_type == original.doc_type
    a, b = original.payment, scanned.payment
    assert a is not None and b is not None
    assert (b.amount, b.currency, b.value_date) == (a.amount, a.currency, a.value_date)
    assert (b.sender_bic, b.receiver_bic) == (a.sender_bic, a.receiver_bic)
    assert b.creditor_agent == a.creditor_agent and b.debtor_agent == a.debtor_agent
    assert b.creditor is not None and a.creditor is not None
    assert b.creditor.account == a.creditor.account
