"""A document's page images for the case page: sizes first, each image rendered when asked, then cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services import pages as page_cache
from tests.tools.documents.generator import generate
from tools.errors import NotFoundError


def _never() -> bytes:
    raise AssertionError("the document was read although the answer was cached")


def test_sizes_render_nothing_and_a_page_is_rendered_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = next(d for d in generate(6, seed=5) if d.pages > 1)
    infos = page_cache.pages(tmp_path, "abc", doc.pdf, "advice.pdf")
    assert [i.number for i in infos] == list(range(1, doc.pages + 1))
    assert round(infos[0].width) == 595 and round(infos[0].height) == 842
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"abc-{page_cache.DPI}.json"]  # no image yet
    png = page_cache.page_png(tmp_path, "abc", lambda: doc.pdf, "advice.pdf", doc.pages)
    assert png.startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [f"abc-{page_cache.DPI}-{doc.pages}.png"]
    with pytest.raises(NotFoundError):
        page_cache.page_png(tmp_path, "abc", lambda: doc.pdf, "advice.pdf", doc.pages + 1)

    def no_render(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr("tools.documents.sandbox.render_sandboxed", no_render)
    monkeypatch.setattr("tools.documents.sandbox.page_sizes_sandboxed", no_render)
    assert page_cache.page_png(tmp_path, "abc", _never, "advice.pdf", doc.pages) == png
    assert page_cache.pages(tmp_path, "abc", _never, "advice.pdf") == infos
