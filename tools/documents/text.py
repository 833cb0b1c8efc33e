"""Plain-text reader: one page of words on a character grid.

Contract: :func:`read_text` decodes UTF-8 (Latin-1 as a fallback) and returns one :class:`Page` whose
words sit at ``x = column * 6``, ``top = line * 12`` (a 6x12 point cell per character, so the same
layout rules apply as to a PDF). Binary content raises :class:`UnsupportedDocumentError`.
"""

from __future__ import annotations

import re

from tools.documents.layout import Page, Word
from tools.errors import UnsupportedDocumentError

CELL_WIDTH, CELL_HEIGHT = 6.0, 12.0


def decode_text(data: bytes, source: str) -> str:
    sample = data[:8192]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if b"\x00" in sample or controls > len(sample) * 0.02:
        raise UnsupportedDocumentError(
            "binary content that is not a PDF, an image or text (whatever its name says)", source=source
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_text(data: bytes, source: str) -> list[Page]:
    text = decode_text(data, source)
    words = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        for match in re.finditer(r"\S+", line.expandtabs(8)):
            words.append(
                Word(
                    match.group(0),
                    match.start() * CELL_WIDTH,
                    number * CELL_HEIGHT,
                    match.end() * CELL_WIDTH,
                    number * CELL_HEIGHT + CELL_HEIGHT * 0.8,
                    1,
                )
            )
    width = max((len(line) for line in lines), default=0) * CELL_WIDTH
    return [Page(1, width, len(lines) * CELL_HEIGHT, "pt", "plain", words)]
