"""Limits that keep a bad document from hanging or exhausting the service.

Each limit is checked as early as the format allows: page count and page size from the PDF's page
tree before any page is parsed, the decompressed size of each page's content stream before PDFium
interprets it, pixel counts from an image header before it is decoded, characters and words while
the text layer is read, and the whole piece of work under a wall-time and address-space limit in a
worker process (:mod:`tools.documents.sandbox`). A breach raises a typed error whose message names
the limit, so the caller (API 413/422, a failed case) can say why.

The tunable values are :class:`tools.config.DocumentLimits`, set from the environment by the app's
``Settings`` (``REPAIRDESK_DOC_*``, docs/configuration.md) so operators can tune them without a
release; :func:`limits` is what the readers ask. The constants below are the defaults.
"""

from __future__ import annotations

from tools.config import DocumentLimits, current

_DEFAULTS = DocumentLimits()
MAX_PAGES = _DEFAULTS.max_pages
MAX_IMAGE_PIXELS = _DEFAULTS.max_image_pixels
OCR_DPI = 300
# A text layer with fewer printable characters than this is treated as absent (scan with no OCR).
MIN_TEXT_CHARS = 25


def limits() -> DocumentLimits:
    """The limits this process runs with."""
    return current().documents
