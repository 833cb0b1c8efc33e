"""Glyphs the text layer cannot name: read them the way PDFium does.

Some PDF fonts have no Unicode map for a few glyphs; pdfminer then yields a control character
("B172FB37\\x000003") where PDFium, which also consults the font's glyph names and encodings, reads
the hyphen that is printed. :func:`repair_unmapped` looks each damaged word up in PDFium's text of
the same page and takes the missing characters from there; words it cannot place stay as they were.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from tools.documents.layout import Word

_UNMAPPED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


def _pdfium_text(page: Any) -> str:
    from tools.documents import pdfium

    with pdfium._LOCK:  # PDFium is not thread-safe; share the module's one lock
        textpage = page.get_textpage()
        try:
            return str(textpage.get_text_range())
        finally:
            textpage.close()


def repair_unmapped(words: list[Word], page: Any) -> list[Word]:
    """``words`` with unmapped glyphs replaced by PDFium's reading of the loaded ``page``."""
    damaged = [w for w in words if _UNMAPPED.search(w.text)]
    if not damaged:
        return words
    text = _pdfium_text(page)
    fixed: dict[int, Word] = {}
    for word in damaged:
        parts = _UNMAPPED.split(word.text)
        pattern = "(\\S)".join(re.escape(p) for p in parts)
        match = re.search(pattern, text)
        if match is None or any(not g.isprintable() for g in match.groups()):
            continue
        repaired = "".join(
            p + (match.group(i + 1) if i < len(match.groups()) else "") for i, p in enumerate(parts)
        )
        fixed[id(word)] = replace(word, text=repaired)
    return [fixed.get(id(w), w) for w in words]
