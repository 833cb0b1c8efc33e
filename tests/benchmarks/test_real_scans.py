"""``benchmarks/real_invoices.scanned_real``: the real invoices rendered as scans and read through
OCR (the measure behind ``benchmarks/documents.py --real-scans``)."""

from __future__ import annotations

import shutil
from pathlib import Path

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
