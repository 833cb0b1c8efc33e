"""Limits that keep a bad document from hanging or exhausting the service.

Each limit is checked as early as the format allows: page count and page size from the PDF's page
tree before any page is parsed, the decompressed size of each page's content stream before pdfminer
interprets it, pixel counts from an image header before it is decoded, characters and words while
the text layer is read, and the whole piece of work under a wall-time and address-space limit in a
worker process (:mod:`tools.documents.sandbox`). A breach raises a typed error whose message names
the limit, so the caller (API 413/422, a failed case) can say why.

Environment variables override the defaults so that operators can tune them without a release.
"""

from __future__ import annotations

import os


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


MAX_PAGES = _int_env("REPAIRDESK_DOC_MAX_PAGES", 50)
# Longest page side in PDF points: A0 is 3370 pt; a page far larger only exists to make a renderer
# allocate gigabytes (a 9,000-point page at 300 dpi is 1.4 billion pixels).
MAX_PAGE_SIDE_PT = _int_env("REPAIRDESK_DOC_MAX_PAGE_POINTS", 4000)
# Raster images: 40 megapixels covers an A4 scan at 600 dpi (35 MP); larger is a bomb or a poster.
MAX_IMAGE_PIXELS = _int_env("REPAIRDESK_DOC_MAX_PIXELS", 40_000_000)
# A page rendered for OCR or the UI is scaled down to stay under this many pixels.
MAX_RENDER_PIXELS = _int_env("REPAIRDESK_DOC_MAX_RENDER_PIXELS", 40_000_000)
# Decompressed content-stream bytes: a dense text page is 50-200 KB; megabytes are a stream bomb.
MAX_PAGE_CONTENT_BYTES = _int_env("REPAIRDESK_DOC_MAX_PAGE_CONTENT_BYTES", 4 * 1024 * 1024)
MAX_CONTENT_BYTES = _int_env("REPAIRDESK_DOC_MAX_CONTENT_BYTES", 32 * 1024 * 1024)
# Text layer: a dense page holds some 10,000 characters; an advice or invoice a few thousand words.
MAX_PAGE_CHARS = _int_env("REPAIRDESK_DOC_MAX_PAGE_CHARS", 60_000)
MAX_DOCUMENT_CHARS = _int_env("REPAIRDESK_DOC_MAX_CHARS", 500_000)
MAX_WORDS = _int_env("REPAIRDESK_DOC_MAX_WORDS", 100_000)
# One document's whole extraction (parse, render, OCR), and the memory its worker process may map.
DOC_TIMEOUT_S = _int_env("REPAIRDESK_DOC_TIMEOUT_S", 25)
DOC_MEMORY_MB = _int_env("REPAIRDESK_DOC_MEMORY_MB", 1024)
OCR_TIMEOUT_S = _int_env("REPAIRDESK_OCR_TIMEOUT_S", 20)  # per page
OCR_DPI = 300
OCR_LANGUAGES = os.environ.get("REPAIRDESK_OCR_LANGUAGES", "eng+deu+fra+nld+spa")
# A text layer with fewer printable characters than this is treated as absent (scan with no OCR).
MIN_TEXT_CHARS = 25
