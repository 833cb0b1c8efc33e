"""``benchmarks/real_invoices.einvoice_pages``: e-invoice PDFs' pages read without their XML and
scored against it (the measure behind ``benchmarks/documents.py --einvoice-pages``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.real_invoices import FIELDS, einvoice_pages


def test_pages_are_scored_against_their_own_xml_and_plain_pdfs_are_skipped(
    shared_data: Path, tmp_path: Path
) -> None:
    for name in ("real_d01.pdf", "real_d02.pdf"):  # Factur-X / ZUGFeRD: XML attached
        shutil.copy(shared_data / "invoices/real" / name, tmp_path / name)
    shutil.copy(shared_data / "invoices/invoice2data/coolblue1.pdf", tmp_path / "plain.pdf")  # no XML
    counts = einvoice_pages(tmp_path)
    assert counts["skipped"] == 1 and counts["errors"] == 0
    assert counts["amount:total"] == 2 and counts["invoice_number:total"] == 2
    # These two are in the shared real set, read at 100% with their XML: the page alone agrees.
    assert all(counts[field] == counts[f"{field}:total"] for field in FIELDS if counts[f"{field}:total"])


@pytest.mark.slow
def test_pages_read_as_scans_are_scored_against_their_xml(shared_data: Path, tmp_path: Path) -> None:
    """``--einvoice-scans``: the page goes through OCR (no text layer, no XML), the XML stays the truth."""
    shutil.copy(shared_data / "invoices/real/real_d01.pdf", tmp_path / "real_d01.pdf")
    counts = einvoice_pages(tmp_path, scans=True)
    assert counts["errors"] == 0 and counts["amount:total"] == 1
    assert counts["amount"] == 1 and counts["invoice_number"] == 1 and counts["iban"] == 1
