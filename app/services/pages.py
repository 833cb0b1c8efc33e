"""Page images of stored documents for the analyst UI, cached on disk.

Rendering is ``tools.documents.render_pages``: PNG bytes per page plus the page size in the units of
the extraction bounding boxes (PDF points, image pixels), so the UI places a highlight at
``bbox / page size`` whatever the rendering resolution. All pages of a document are rendered once
and kept under ``cache_dir`` as ``<sha256>-<dpi>-<n>.png`` with a ``<sha256>-<dpi>.json`` index.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from tools.errors import NotFoundError

DPI = 110


@dataclass(frozen=True)
class PageInfo:
    number: int  # 1-based
    width: float  # in bounding-box units
    height: float


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def pages(cache_dir: Path, sha256: str, data: bytes, source: str, dpi: int = DPI) -> list[PageInfo]:
    """The document's pages (rendering and caching them on first use); raises the renderer's typed errors."""
    meta = cache_dir / f"{sha256}-{dpi}.json"
    if meta.exists():
        return [PageInfo(**item) for item in json.loads(meta.read_text())]
    from tools.documents.sandbox import render_sandboxed

    rendered = render_sandboxed(data, source, dpi=dpi)  # time and memory limits, off the service process
    cache_dir.mkdir(parents=True, exist_ok=True)
    infos = []
    for page in rendered:
        _write(cache_dir / f"{sha256}-{dpi}-{page.page}.png", page.png)
        infos.append(PageInfo(page.page, page.width, page.height))
    _write(meta, json.dumps([asdict(i) for i in infos]).encode())
    return infos


def page_png(cache_dir: Path, sha256: str, data: bytes, source: str, number: int, dpi: int = DPI) -> bytes:
    infos = pages(cache_dir, sha256, data, source, dpi)
    if not any(info.number == number for info in infos):
        raise NotFoundError(f"page {number} of {len(infos)}", source=source)
    return (cache_dir / f"{sha256}-{dpi}-{number}.png").read_bytes()
