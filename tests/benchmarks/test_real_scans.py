"""``benchmarks/real_invoices.scanned_real``: the real invoices rendered as scans and read through
OCR (the measure behind ``benchmarks/documents.py --real-scans``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.real_invoices import FIELDS, as_scan, scanned_real
from tools.documents.service import read_pages


def test_a_scan_has_no_text_layer_and_keeps_every_page(shared_data: Path) -> None:
    data = (shared_data / "invoices/invoice2data/QualityHosting.pdf").read_bytes()  # two pages
    pages = read_pages(as_scan(data, "QualityHosting.pdf"), "scan.pdf")
    assert [page.reader for page in pages] == ["ocr", "ocr"]


def test_a_scanned_real_invoice_is_scored_against_its_json(shared_data: Path, tmp_path: Path) -> None:
    for suffix in (".pdf", ".json"):
        shutil.copy(shared_data / f"invoices/invoice2data/AzureInterior{suffix}", tmp_path / f"a{suffix}")
    counts = scanned_real([tmp_path])
    assert counts["amount:total"] == 1 and counts["iban:total"] == 1
    # read right through OCR on the 2026-12-05 measurement: a regression in the OCR path shows here
    assert all(counts[field] == counts[f"{field}:total"] for field in FIELDS if counts[f"{field}:total"])


def test_a_scanned_ruled_table_keeps_its_last_column() -> None:
    """The advice's ruled table, scanned slightly turned: pieces of rules left after deskewing
    made tesseract drop the "Zahlbetrag" column (each invoice came out with its discount)."""
    from decimal import Decimal

    from tests.tools.documents.remittance_layouts import german_stacked_table
    from tools.extract import extract_bytes

    advice = german_stacked_table()
    [extraction] = extract_bytes(as_scan(advice.pdf, advice.name), "advice-scan.pdf")
    assert extraction.remittance is not None
    paid = [(line.invoice_number, line.net_amount or line.amount) for line in extraction.remittance.lines]
    assert paid == [(number, Decimal(amount)) for number, amount in advice.lines]


def test_ocr_letter_pairs_read_as_one_letter_still_name_the_document() -> None:
    from tools.documents.extractor import extract_pages
    from tools.documents.layout import Page, Word

    lines = ["Cartiera Lombarda S.r.l.", "Oggetto: awiso di bonifico", "Pagato in data 12/11/2025"]
    words = [
        Word(text, 20.0 + 60 * i, 20.0 + 14 * row, 70.0 + 60 * i, 30.0 + 14 * row, 1, 0.9)
        for row, line in enumerate(lines)
        for i, text in enumerate(line.split())
    ]
    assert extract_pages([Page(1, 595, 842, "pt", "ocr", words)], "a").doc_type == "remittance_advice"


@pytest.mark.slow
def test_a_harsh_scan_of_a_real_invoice_keeps_its_bank_details(shared_data: Path, tmp_path: Path) -> None:
    """``--harsh-scans`` (200 dpi, up to 2 degrees, JPEG 50): coolblue's IBAN comes out of OCR as
    "NL50OINGBO683251309" (a space read as "O", a figure as a letter) and is repaired by its
    country's format and checksum (the turn is drawn from the file's name: the same scan as measured)."""
    for suffix in (".pdf", ".json"):
        shutil.copy(shared_data / f"invoices/invoice2data/coolblue1{suffix}", tmp_path / f"coolblue1{suffix}")
    counts = scanned_real([tmp_path], "harsh")
    assert counts["iban:total"] == 1 and counts["iban"] == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "name"),
    [
        # light falling off to about half across the page, grey paper, noise, JPEG 60: one global
        # threshold turned the dim side black and every field was lost
        ("photo", "real_d11"),
        # the sheet on a desk at a slant: read square-on, its words placed back on the picture
        ("snapshot", "real_d05"),
        # a 150-dpi image file: the median filter erased small print's strokes (4 of 6 fields)
        ("small", "real_d11"),
        # fed into the scanner turned: tesseract read the quarter-turned page word by word, its
        # boxes on end, and no line came together (1 of 6 fields)
        ("turned", "real_d12"),
        # a fax in standard mode, pixels twice as tall as wide: read squashed, 1 of 6 fields
        ("fax", "real_d14"),
    ],
)
def test_a_real_invoice_copied_as_people_send_it_is_read_whole(
    shared_data: Path, tmp_path: Path, kind: str, name: str
) -> None:
    for suffix in (".pdf", ".json"):
        shutil.copy(shared_data / f"invoices/real/{name}{suffix}", tmp_path / f"{name}{suffix}")
    counts = scanned_real([tmp_path], kind)
    assert counts["amount:total"] == 1 and counts["invoice_number:total"] == 1
    assert all(counts[field] == counts[f"{field}:total"] for field in FIELDS if counts[f"{field}:total"])


def test_a_photo_is_lit_unevenly_and_has_no_text_layer(shared_data: Path) -> None:
    import numpy as np
    import pypdfium2 as pdfium

    from benchmarks.real_invoices import as_photo

    data = (shared_data / "invoices/real/real_d11.pdf").read_bytes()
    photo = as_photo(data, "real_d11.pdf")
    assert photo == as_photo(data, "real_d11.pdf")  # repeatable: drawn from the name
    document = pdfium.PdfDocument(photo)
    try:
        grey = np.asarray(document[0].render(scale=1).to_pil().convert("L"), dtype=np.float32)
        assert document[0].get_textpage().count_chars() == 0
    finally:
        document.close()
    corners = [grey[:40, :40], grey[:40, -40:], grey[-40:, :40], grey[-40:, -40:]]
    brightest = [float(np.percentile(corner, 90)) for corner in corners]
    assert max(brightest) < 230  # grey paper
    assert min(brightest) < 0.8 * max(brightest)  # the light falls off across the page
