"""Dangerous documents, generated on demand (never committed): the shapes that took a server down.

Each builder returns the bytes of one document; :data:`HOSTILE` lists them with the HTTP status the
service must answer and a word the error message must contain (the limit it names). Shared by the
attack tests (``tests/app/test_hostile.py``) and ``benchmarks/hostile.py``.
"""

from __future__ import annotations

import io
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass


def raw_pdf(pages: list[tuple[str, bytes]], *, compress: bool = True) -> bytes:
    """A minimal PDF by hand: one page per ``(media_box, content)``, content Flate-compressed.

    Hand-written because a PDF library would refuse (or normalise) the hostile shapes."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for media_box, content in pages:
        stream = zlib.compress(content, 9) if compress else content
        filters = b" /Filter /FlateDecode" if compress else b""
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(stream), filters) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (media_box.encode(), font, content_id)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def giant_page() -> bytes:
    """A few hundred bytes declaring a 9,000-point page with no text: a renderer allocates gigabytes."""
    return raw_pdf([("0 0 9000 9000", b"0 0 m 9000 9000 l S")], compress=False)


def negative_media_box() -> bytes:
    """A page whose media box runs backwards (negative width and height)."""
    return raw_pdf([("0 0 -612 -792", b"BT /F1 12 Tf 72 720 Td (Remittance advice) Tj ET")])


def content_stream_bomb() -> bytes:
    """64 MB of drawing operators compressed to some 100 kB."""
    return raw_pdf([("0 0 612 792", b"0 0 m 1 1 l " * (64 * 1024 * 1024 // 12))])


def million_words() -> bytes:
    """Two million words over 40 pages, each page under the content-stream limit."""
    words_per_page = 50_000
    line = b"BT /F1 1 Tf 10 10 Td " + b"(ab) Tj 2 0 Td " * words_per_page + b"ET"
    return raw_pdf([("0 0 612 792", line)] * 40)


def huge_tiff() -> bytes:
    """A 7,000 x 7,000 pixel (49 MP) bilevel TIFF, a few kB on disk."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (7000, 7000), 1).save(buffer, format="TIFF", compression="group4")
    return buffer.getvalue()


@dataclass(frozen=True)
class Hostile:
    name: str  # the upload's file name
    build: Callable[[], bytes]
    status: int  # what POST /v1/documents must answer
    names: str  # a word the error message must contain: the limit or the reason


HOSTILE: list[Hostile] = [
    Hostile("giant-page.pdf", giant_page, 413, "page-size limit"),
    Hostile("negative-box.pdf", negative_media_box, 422, "invalid size"),
    Hostile("stream-bomb.pdf", content_stream_bomb, 413, "content stream"),
    Hostile("million-words.pdf", million_words, 413, "limit"),
    Hostile("huge.tiff", huge_tiff, 413, "pixel"),
]


class HealthWatch:
    """GET /healthz every 50 ms on its own connection while an attack runs; records the slowest
    answer and the failures (the attack suite asserts on them, benchmarks/hostile.py prints them)."""

    def __init__(self, base: str) -> None:
        self.base, self.slowest, self.failures, self.checks = base, 0.0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.base, timeout=10) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.failures += not ok
                self.checks += 1
                self._stop.wait(0.05)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
