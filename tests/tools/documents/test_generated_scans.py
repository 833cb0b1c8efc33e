"""Field accuracy on scans (300 dpi, noise, 0.5-1.5 degree skew, JPEG artefacts) of generated advices.

OCR costs seconds a page, so the scan set is one document per (layout, language) pair by default;
``REPAIRDESK_SCAN_DOCS`` raises it (the benchmark runs the full set).
"""

from __future__ import annotations

import os
import shutil
from collections import Counter

import pytest

from tests.conftest import require
from tests.tools.documents.generator import generate, to_scan
from tests.tools.documents.scoring import accuracy, per_field, score
from tools.documents import extract_document

SCAN_DOCS = int(os.environ.get("REPAIRDESK_SCAN_DOCS", "30"))


@pytest.mark.slow
def test_scan_field_accuracy_at_least_90_percent(tmp_path: object) -> None:
    require(shutil.which("tesseract") is not None, "tesseract is not installed")
    docs = generate(max(60, SCAN_DOCS), seed=7)[:SCAN_DOCS]
    totals: Counter[str] = Counter()
    for index, doc in enumerate(docs):
        scan = to_scan(doc.pdf, seed=index)
        name = f"{doc.name}.{'pdf' if doc.pages > 1 else 'jpg'}"
        [extraction] = extract_document(scan, name)
        totals += score(extraction, doc.expected, doc.layout)
    assert accuracy(totals) >= 0.90, per_field(totals)
