"""Every bad input gives its typed error, quickly."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest

from tools.documents import extract_document, render_pages
from tools.documents.limits import MAX_IMAGE_PIXELS, MAX_PAGES
from tools.errors import DocumentError, InputTooLargeError, RepairDeskError, UnsupportedDocumentError


def _pdf(pages: int = 1, encrypt: bool = False) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt="secret" if encrypt else None)
    for number in range(pages):
        pdf.drawString(72, 720, f"Remittance advice page {number + 1}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _huge_png() -> bytes:
    from PIL import Image

    side = int(MAX_IMAGE_PIXELS**0.5) + 100
    buffer = io.BytesIO()
    Image.new("1", (side, side), 1).save(buffer, format="PNG")  # compresses to a few kB: a bomb
    return buffer.getvalue()


CASES: list[tuple[str, Callable[[], bytes], str, type[RepairDeskError]]] = [
    ("encrypted", lambda: _pdf(encrypt=True), "locked.pdf", DocumentError),
    ("corrupt", lambda: _pdf()[:400] + b"\x00garbage" * 50, "broken.pdf", DocumentError),
    ("zero bytes", lambda: b"", "empty.pdf", DocumentError),
    ("over page limit", lambda: _pdf(pages=MAX_PAGES + 1), "long.pdf", DocumentError),
    ("image over pixel limit", _huge_png, "bomb.png", InputTooLargeError),
    (
        "not a pdf",
        lambda: b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4,
        "fake.pdf",
        UnsupportedDocumentError,
    ),
]


@pytest.mark.parametrize(("label", "make", "name", "error"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_typed_error_quickly(
    label: str, make: Callable[[], bytes], name: str, error: type[RepairDeskError]
) -> None:
    data = make()
    start = time.monotonic()
    with pytest.raises(error) as caught:
        extract_document(data, name)
    assert time.monotonic() - start < 5, label
    assert caught.value.source == name and caught.value.reason


def test_render_refuses_the_same_inputs() -> None:
    with pytest.raises(DocumentError):
        render_pages(_pdf(encrypt=True), "locked.pdf")
    with pytest.raises(InputTooLargeError):
        render_pages(_huge_png(), "bomb.png")
