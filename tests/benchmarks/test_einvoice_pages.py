"""``benchmarks/real_invoices.einvoice_pages``: e-invoice PDFs' pages read without their XML and
scored against it (the measure behind ``benchmarks/documents.py --einvoice-pages``)."""

from __future__ import annotations

import shutil
from pathlib import Path

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
