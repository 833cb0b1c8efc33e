"""PDFium word layer: pdfplumber's grouping rules over character boxes, and a real PDF read through it."""

from __future__ import annotations

from pathlib import Path

from tools.documents.pdfium import close_document, open_document
from tools.documents.textlayer import Char, page_chars, words_from_chars


def _run(text: str, x: float, top: float = 10.0, *, gap: bool = False, width: float = 5.0) -> list[Char]:
    chars = []
    for i, ch in enumerate(text):
        chars.append((ch, x + i * width, top, x + (i + 1) * width, top + 10, True, gap and i == 0))
    return chars


def test_words_split_at_gaps_spaces_and_lines() -> None:
    chars = _run("06108", 0) + _run("Halle", 27, gap=True) + _run("Saale", 60) + _run("Next", 0, 30)
    words = words_from_chars(chars, 1)
    assert [w.text for w in words] == ["06108", "Halle", "Saale", "Next"]
    assert (words[0].x0, words[0].top, words[0].x1, words[0].bottom) == (0, 10, 25, 20)
    # 2 points apart and no space between: one word, as pdfplumber's x tolerance of 3 reads it
    assert [w.text for w in words_from_chars(_run("10", 0) + _run("Liter", 12), 1)] == ["10Liter"]


def test_turned_text_stays_apart_from_the_lines_it_crosses() -> None:
    turned = [(ch, 2.0, 10.0 + 4 * i, 8.0, 14.0 + 4 * i, False, False) for i, ch in enumerate("COPY")]
    chars = turned + _run("Total", 40, 10) + _run("Amount", 40, 16)
    assert sorted(w.text for w in words_from_chars(chars, 1)) == ["Amount", "COPY", "Total"]


def test_real_invoice_hyphen_without_font_metrics_stays_in_its_word(shared_data: Path) -> None:
    # The invoice number's hyphen has no Unicode map in pdfminer and an ink-only box in PDFium.
    document = open_document((shared_data / "invoices/real/real_d13.pdf").read_bytes())
    try:
        words = words_from_chars(page_chars(document, 0), 1)
    finally:
        close_document(document)
    assert "B172FB37-0003" in [w.text for w in words]
