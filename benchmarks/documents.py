"""Document extraction benchmark: text-PDF pages per second, OCR seconds per page, field accuracy.

Runs on the generated remittance advices (six layouts x five languages, see
evals/generators/remittance.py); tesseract runs single-threaded, so the OCR figure is per core.
Floors: 10 text pages/s and 3 s per scanned A4 page (medians).

    .venv/bin/python benchmarks/documents.py [--text 60] [--scans 60] [--seed 7]
        [--no-real] [--repeat 1] [--learning] [--outside DIR ...] [--einvoice-pages DIR ...]
        [--real-scans] [--harsh-scans] [--photos] [--snapshots] [--small-images] [--turned-scans]
        [--faxes]
        [--einvoice-scans DIR ...]

Also (unless ``--no-real``) the real invoices side by side with invoice2data 1.0.1 and its own
templates (benchmarks/real_invoices.py), and with ``--learning`` the accuracy on a stream of
repeat-issuer documents after one correction per issuer (benchmarks/learning.py).
``--outside DIR`` adds a folder of PDFs with invoice2data-style JSON to the side-by-side table (for
example invoice2data's own ``tests/compare``); ``--einvoice-pages DIR`` reads the printed pages of
e-invoice PDFs without their XML and scores them against it (for example ZUGFeRD's public corpus);
``--real-scans`` reads the shared real invoices rendered as scans (real layouts through OCR),
``--harsh-scans`` as poorer scans, ``--photos`` as phone photos (uneven light, grey paper) and
``--snapshots`` as photos of the sheet lying on a desk (at a slant, a darker ground around it),
``--small-images`` as small image files (150 dpi), ``--turned-scans`` as scans fed in sideways or
upside down, ``--faxes`` as faxes in standard mode (204 x 98 dpi).
docs/documents.md says where to get both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from evals.generators.remittance import generate, to_scan
from tests.tools.documents.scoring import accuracy, per_field, score
from tools.documents import extract_document


def _cpu() -> float:
    """CPU seconds used by this process and its finished children (tesseract runs as a child):
    the per-core cost, unaffected by other load on a shared machine. From ``getrusage``
    (microseconds): ``os.times`` counts 10 ms ticks, longer than a text page takes."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _report(title: str, totals: Counter[str]) -> None:
    print(f"  {title} field accuracy: {accuracy(totals):.1%}")
    for name, value in sorted(per_field(totals).items()):
        print(f"    {name:<22} {value:.1%}")


# The real invoices read from copies of them (``benchmarks.real_invoices.COPIES``): flag, kind, help.
_COPY_FLAGS = {
    "real-scans": ("scan", "as 250-dpi scans"),
    "harsh-scans": ("harsh", "as harsher scans (200 dpi, turned up to 2 degrees, JPEG 50)"),
    "photos": ("photo", "as phone photos (uneven light, grey paper, noise)"),
    "snapshots": ("snapshot", "photographed on a desk (at a slant, a darker ground)"),
    "small-images": ("small", "as small image files (150 dpi TIFF, JPEG)"),
    "turned-scans": ("turned", "as scans fed in sideways or upside down"),
    "faxes": ("fax", "as faxes (204 x 98 dpi, black and white)"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=int, default=60, help="generated text PDFs")
    parser.add_argument("--scans", type=int, default=60, help="generated scans (OCR)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-real", action="store_true", help="skip the real invoices vs invoice2data")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the real invoices (medians)")
    parser.add_argument("--learning", action="store_true", help="layouts learned from one correction")
    parser.add_argument(
        "--outside",
        type=Path,
        action="append",
        default=[],
        help="another folder of PDFs with invoice2data-style JSON beside them (repeatable)",
    )
    parser.add_argument(
        "--einvoice-pages",
        type=Path,
        action="append",
        default=[],
        help="a folder of e-invoice PDFs: their pages read without the XML, scored against it",
    )
    parser.add_argument(
        "--einvoice-scans",
        type=Path,
        action="append",
        default=[],
        help="a folder of e-invoice PDFs: their pages (up to two) rendered as scans, scored against the XML",
    )
    for flag, (_, wording) in _COPY_FLAGS.items():
        parser.add_argument(
            f"--{flag}", action="store_true", help=f"the shared real invoices {wording}, read by OCR"
        )
    args = parser.parse_args()
    if not args.no_real:
        from benchmarks.real_invoices import run as run_real
        from tools.config import shared_data_dir

        run_real(shared_data_dir(), repeat=max(1, args.repeat), extra=args.outside)
    if args.einvoice_pages:
        from benchmarks.real_invoices import einvoice_pages

        for folder in args.einvoice_pages:
            einvoice_pages(folder)
    for folder in args.einvoice_scans:
        from benchmarks.real_invoices import einvoice_pages

        einvoice_pages(folder, scans=True)
    kinds = [kind for flag, (kind, _) in _COPY_FLAGS.items() if getattr(args, flag.replace("-", "_"))]
    if kinds:
        from benchmarks.real_invoices import scanned_real
        from tools.config import shared_data_dir

        invoices = shared_data_dir() / "invoices"
        for kind in kinds:
            scanned_real([invoices / "real", invoices / "invoice2data"], kind)
    if args.learning:
        from benchmarks.learning import run as run_learning

        run_learning(seed=args.seed)
    docs = generate(max(args.text, args.scans), seed=args.seed)

    per_page: list[float] = []
    cpu_page: list[float] = []
    totals: Counter[str] = Counter()
    for doc in docs[: args.text]:
        start, cpu = time.perf_counter(), _cpu()
        [extraction] = extract_document(doc.pdf, f"{doc.name}.pdf")
        per_page.append((time.perf_counter() - start) / doc.pages)
        cpu_page.append((_cpu() - cpu) / doc.pages)
        totals += score(extraction, doc.expected, doc.layout)
    if args.text:
        pages = sum(d.pages for d in docs[: args.text])
        print(f"text PDFs: {args.text} documents, {pages} pages")
        elapsed = sum(p * d.pages for p, d in zip(per_page, docs, strict=False))
        median_rate = 1 / statistics.median(per_page)
        print(f"  wall: median {median_rate:.1f} pages/s (floor 10); overall {pages / elapsed:.1f} pages/s")
        print(f"  cpu:  median {1 / statistics.median(cpu_page):.1f} pages/s per core")
        _report("text", totals)

    if args.scans:
        ocr_page: list[float] = []
        ocr_cpu: list[float] = []
        totals = Counter()
        for index, doc in enumerate(docs[: args.scans]):
            scan = to_scan(doc.pdf, seed=index)
            start, cpu = time.perf_counter(), _cpu()
            [extraction] = extract_document(scan, f"{doc.name}.{'pdf' if doc.pages > 1 else 'jpg'}")
            ocr_page.append((time.perf_counter() - start) / doc.pages)
            ocr_cpu.append((_cpu() - cpu) / doc.pages)
            totals += score(extraction, doc.expected, doc.layout)
        print(f"scans: {args.scans} documents, {sum(d.pages for d in docs[: args.scans])} pages, 300 dpi")
        print(f"  wall: median {statistics.median(ocr_page):.2f} s/page (floor 3.0); max {max(ocr_page):.2f}")
        print(f"  cpu:  median {statistics.median(ocr_cpu):.2f} s/page on one core; max {max(ocr_cpu):.2f}")
        _report("scan", totals)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
