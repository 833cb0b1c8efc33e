"""Limits that keep a bad document from hanging or exhausting the service.

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
# 100 megapixels: an A4 page at 600 dpi is 35 MP; anything far larger is a decompression bomb.
MAX_IMAGE_PIXELS = _int_env("REPAIRDESK_DOC_MAX_PIXELS", 100_000_000)
OCR_TIMEOUT_S = _int_env("REPAIRDESK_OCR_TIMEOUT_S", 30)  # per page
OCR_DPI = 300
OCR_LANGUAGES = os.environ.get("REPAIRDESK_OCR_LANGUAGES", "eng+deu+fra+nld+spa")
# A text layer with fewer printable characters than this is treated as absent (scan with no OCR).
MIN_TEXT_CHARS = 25
