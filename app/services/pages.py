"""Page images of stored documents for the analyst UI, cached on disk.

Rendering is ``tools.documents.render_pages``: PNG bytes per page plus the page size in the units of
the extraction bounding boxes (PDF points, image pixels), so the UI places a highlight at
``bbox / page size`` whatever the rendering resolution.

Nothing is rendered up front: the case page needs only the page sizes (read from the PDF's page
tree, no page loaded; ``<sha256>-<dpi>.json``), and each page image is rendered when it is first
asked for (the browser loads them lazily, as they scroll into view) and kept as
``<sha256>-<dpi>-<n>.png``. A 20-page document's first view therefore costs one cheap read, not 20
renders; both run in the document sandbox (time and memory limits, off the service process).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from tools.errors import NotFoundError

DPI = 110


@dataclass(frozen=True)
class PageInfo:
    number: int  # 1-based
    width: float  # in bounding-box units
    height: float


Data = bytes | Callable[[], bytes]  # the document's bytes, or how to read them (only on a cache miss)


def _bytes(data: Data) -> bytes:
    return data() if callable(data) else data


def _write(path: Path, data: bytes) -> None:
    # One temporary name per writer: two requests for the same page may render it at once.
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def pages(cache_dir: Path, sha256: str, data: Data, source: str, dpi: int = DPI) -> list[PageInfo]:
    """The document's pages and their sizes (read once, then cached); raises the reader's typed errors."""
    meta = cache_dir / f"{sha256}-{dpi}.json"
    if meta.exists():
        return [PageInfo(**item) for item in json.loads(meta.read_text())]
    from tools.documents.sandbox import page_sizes_sandboxed

    sizes = page_sizes_sandboxed(_bytes(data), source)
    infos = [PageInfo(number, width, height) for number, width, height in sizes]
    cache_dir.mkdir(parents=True, exist_ok=True)
    _write(meta, json.dumps([asdict(i) for i in infos]).encode())
    return infos


def page_png(cache_dir: Path, sha256: str, data: Data, source: str, number: int, dpi: int = DPI) -> bytes:
    """Page ``number``'s image, rendered on its first request and cached."""
    path = cache_dir / f"{sha256}-{dpi}-{number}.png"
    if path.exists():
        return path.read_bytes()
    infos = pages(cache_dir, sha256, data, source, dpi)
    if not any(info.number == number for info in infos):
        raise NotFoundError(f"page {number} of {len(infos)}", source=source)
    from tools.documents.sandbox import render_sandboxed

    rendered = render_sandboxed(_bytes(data), source, dpi=dpi, pages=[number])
    if not rendered:
        raise NotFoundError(f"page {number} of {len(infos)}", source=source)
    png: bytes = rendered[0].png
    _write(path, png)
    return png
