"""PDFium is not thread-safe: concurrent extraction and rendering must not crash the process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.tools.documents.generator import generate, to_scan
from tools.documents import extract_document, render_pages


def test_parallel_rendering_and_extraction_of_pdfs() -> None:
    docs = generate(count=4, seed=11)
    scans = [to_scan(doc.pdf, seed=i) for i, doc in enumerate(docs[:2])]

    def work(index: int) -> int:
        doc = docs[index % len(docs)]
        pages = render_pages(doc.pdf, f"doc{index}.pdf", dpi=50)
        extraction = extract_document(doc.pdf, f"doc{index}.pdf")[0]
        return len(pages) + len(extraction.fields)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(16)))
        scan_pages = list(pool.map(lambda s: len(render_pages(s, "scan", dpi=30)), scans * 3))
    assert all(r > 1 for r in results)
    assert all(n >= 1 for n in scan_pages)
