"""Limits that keep a bad document from hanging or exhausting the service.

The tunable ones (pages, pixels, OCR time and languages) are :class:`tools.config.DocumentLimits`,
set from the environment by the app's ``Settings`` (docs/configuration.md) so operators can tune
them without a release; :func:`limits` is what the readers ask. The constants below are the defaults.
"""

from __future__ import annotations

from tools.config import DocumentLimits, current

_DEFAULTS = DocumentLimits()
MAX_PAGES = _DEFAULTS.max_pages
MAX_IMAGE_PIXELS = _DEFAULTS.max_image_pixels
OCR_TIMEOUT_S = _DEFAULTS.ocr_timeout_s
OCR_LANGUAGES = _DEFAULTS.ocr_languages
OCR_DPI = 300
# A text layer with fewer printable characters than this is treated as absent (scan with no OCR).
MIN_TEXT_CHARS = 25


def limits() -> DocumentLimits:
    """The limits this process runs with."""
    return current().documents
