"""Field accuracy on scans (300 dpi, noise, 0.5-1.5 degree skew, JPEG artefacts) of generated advices.

60 single-page documents by default (``REPAIRDESK_SCAN_DOCS`` changes it): every single-page layout
in every language, two documents each. They are OCR'd two at a time: tesseract runs as a separate
process per page, so two threads use both cores of a small CI machine. The multi-page layout is
covered by one two-page scan of its own.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import require
from tests.tools.documents.generator import LAYOUTS, GeneratedDoc, generate, to_scan
from tests.tools.documents.scoring import accuracy, per_field, score
from tools.documents import extract_document

SCAN_DOCS = int(os.environ.get("REPAIRDESK_SCAN_DOCS", "60"))
SINGLE_PAGE = [layout for layout in LAYOUTS if layout != "multi_page"]


def _scored(item: tuple[int, GeneratedDoc]) -> Counter[str]:
    index, doc = item
    scan = to_scan(doc.pdf, seed=index)
    [extraction] = extract_document(scan, f"{doc.name}.jpg")
    assert extraction.raw is not None and extraction.raw["readers"] == ["ocr"], doc.name
    return score(extraction, doc.expected, doc.layout)


@pytest.mark.slow
def test_scan_field_accuracy_at_least_90_percent() -> None:
    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    docs = generate(SCAN_DOCS, seed=7, layouts=SINGLE_PAGE)
    assert len(docs) == SCAN_DOCS and all(doc.pages == 1 for doc in docs)
    totals: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for counts in pool.map(_scored, enumerate(docs)):
            totals += counts
    assert accuracy(totals) >= 0.90, per_field(totals)


@pytest.mark.slow
def test_multi_page_scan_keeps_lines_of_both_pages() -> None:
    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    [doc] = generate(1, seed=7, layouts=["multi_page"])
    scan = to_scan(doc.pdf, seed=1)
    assert scan.startswith(b"%PDF") and doc.pages == 2
    [extraction] = extract_document(scan, f"{doc.name}.pdf")
    assert extraction.raw is not None and extraction.raw["readers"] == ["ocr", "ocr"]
    counts = score(extraction, doc.expected, doc.layout)
    assert accuracy(counts) >= 0.90, per_field(counts)
    assert extraction.remittance is not None
    pages = {f.source.page for f in extraction.fields if f.name.startswith("remittance.lines")}
    assert pages == {1, 2}
