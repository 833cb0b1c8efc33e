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


def test_text_estimate_counts_each_string_as_the_plain_sum() -> None:
    """The glyph estimate summed without a step per string equals the plain per-string sum:
    literal strings count their length, hex strings a glyph per byte (an odd digit rounds down)."""
    import random
    import re

    from tools.documents.pdf import text_estimate

    def plain(content: bytes) -> int:
        literals = re.findall(rb"\((?:[^()\\]|\\.)*\)", content)
        hexes = re.findall(rb"<[0-9A-Fa-f\s]*>", content)
        return sum(len(m) - 2 for m in literals) + sum((len(m) - 2) // 2 for m in hexes)

    rng = random.Random(3)
    for _ in range(300):
        parts = []
        for _ in range(rng.randint(0, 30)):
            kind = rng.random()
            if kind < 0.4:
                digits = bytes(rng.choice(b"0123456789abcDEF \n") for _ in range(rng.randint(0, 9)))
                parts.append(b"<" + digits + b">")
            elif kind < 0.8:
                parts.append(b"(" + bytes(rng.choice(b"abc \\)") for _ in range(rng.randint(0, 6))) + b") Tj")
            else:
                parts.append(rng.choice([b"BT", b"ET", b"1 0 0 1 72 720 Tm", b"<<", b">>"]))
        content = b" ".join(parts)
        assert text_estimate(content) == plain(content), content
    assert text_estimate(b"<41 42 4> Tj (ab) Tj <> Tj") == 3 + 2 + 0


def test_unreadable_characters_are_counted_as_one_by_one() -> None:
    """The text layer's usability test counts replacement and control characters (below a
    space) with one pattern, as the character-by-character test counted them."""
    import random

    from tools.documents.pdf import _UNREADABLE

    rng = random.Random(4)
    alphabet = ["a", " ", "\x00", "\x02", "\t", "\n", "\x1f", "\x7f", "\ufffd", "\ufffe", "é", "(cid:3)"]
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert len(_UNREADABLE.findall(text)) == sum(ch == "\ufffd" or ch < " " for ch in text)


def _structure_pdf(content: bytes, filters: list[str], side: int, box_on_tree: bool = False) -> bytes:
    """One page built with qpdf: its content stream stored under ``filters`` (encoded here), its
    square media box on the page or only on the page tree (inherited)."""
    import base64
    import zlib

    import pikepdf

    pdf = pikepdf.new()
    encoded = content
    for name in reversed(filters):  # the first filter named is the last applied when writing
        if name == "/FlateDecode":
            encoded = zlib.compress(encoded)
        else:  # ASCII85, without the "<~" an encoder may write before it
            encoded = base64.a85encode(encoded, adobe=True)[2:]
    stream = pikepdf.Stream(pdf, encoded)
    stream["/Filter"] = pikepdf.Array([pikepdf.Name(n) for n in filters])
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, Contents=pdf.make_indirect(stream))
    box = pikepdf.Array([0, 0, side, side])
    if not box_on_tree:
        page["/MediaBox"] = box
    pdf.pages.append(pikepdf.Page(page))
    if box_on_tree:
        pdf.Root.Pages["/MediaBox"] = box
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.mark.parametrize("box_on_tree", [False, True], ids=["on the page", "inherited"])
def test_structure_check_reads_a_media_box_inherited_from_the_page_tree(box_on_tree: bool) -> None:
    from tools.documents.pdf import check_structure

    data = _structure_pdf(b"0 0 m 10 10 l S", ["/FlateDecode"], 9000, box_on_tree)
    with pytest.raises(InputTooLargeError, match="page-size limit"):
        check_structure(data, "tree.pdf")


def test_structure_check_decodes_a_filter_chain_before_counting() -> None:
    """A content stream under two filters (ASCII85 over Flate) is measured decoded: its size, not
    its few encoded bytes, is what the page limit sees."""
    from tools.documents.limits import limits
    from tools.documents.pdf import check_structure

    bomb = b"%" + b" " * (limits().max_page_content_bytes + 10)  # a comment: compresses to a few kB
    data = _structure_pdf(bomb, ["/ASCII85Decode", "/FlateDecode"], 600)
    assert len(data) < limits().max_page_content_bytes // 100
    with pytest.raises(InputTooLargeError, match="content stream is over the limit"):
        check_structure(data, "chain.pdf")


def test_a_pdf_without_a_trailer_is_refused_with_qpdfs_reason_alone() -> None:
    """qpdf prefixes its messages with the input's name, here an in-memory stream's repr: the
    reason a person reads names the document (``source``) and what is wrong, nothing else."""
    with pytest.raises(DocumentError) as caught:
        extract_document(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "tiny.pdf")
    assert caught.value.source == "tiny.pdf"
    assert "BytesIO" not in caught.value.reason and "0x" not in caught.value.reason
    assert "corrupt PDF structure" in caught.value.reason


def test_the_estimate_never_exceeds_its_bound() -> None:
    """A stream's bytes bound what :func:`text_estimate` can say of it (the check skips the
    estimate under the bound), hex strings inside literal ones included: both patterns count them."""
    import random

    from tools.documents.pdf import estimate_bound, text_estimate

    rng = random.Random(11)
    pieces = [b"(", b")", b"<", b">", b"\\", b"4", b"a", b" ", b"Tj", b"<<"]
    for _ in range(2000):
        content = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        assert text_estimate(content) <= estimate_bound(len(content)), content
    worst = b"(<" + b"41" * 50 + b">)"
    assert text_estimate(worst) == 102 + 50 and text_estimate(worst) <= estimate_bound(len(worst))


def test_bounded_pages_over_the_document_limit_are_estimated_before_a_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pages whose bytes cannot reach the page limit are counted by their bound; where those
    bounds come over the document's limit, the streams are estimated and only a real excess is
    refused: sparse text passes, dense text does not."""
    import dataclasses

    from tests.hostile_documents import raw_pdf
    from tools.config import DocumentLimits
    from tools.documents import pdf

    small = dataclasses.replace(DocumentLimits(), max_page_chars=1_000, max_document_chars=1_500)
    monkeypatch.setattr(pdf, "limits", lambda: small)
    sparse = b"BT /F1 9 Tf " + b"(ab) Tj 0 -9 Td " * 30 + b"ET"  # 60 characters in 482 bytes
    dense = b"BT /F1 9 Tf (" + b"x" * 470 + b") Tj ET"  # 470 characters in 490 bytes
    box = "0 0 595 842"
    assert pdf.estimate_bound(len(sparse)) <= 1_000 and 4 * pdf.estimate_bound(len(sparse)) > 1_500
    pdf.check_structure(raw_pdf([(box, sparse)] * 4), "sparse.pdf")
    with pytest.raises(InputTooLargeError, match="document limit of 1500 characters"):
        pdf.check_structure(raw_pdf([(box, dense)] * 4), "dense.pdf")
