"""The table finder's edges, rewritten for speed, equal pdfplumber's ``get_edges`` exactly: the same
dicts (keys, key order, values to the last bit) in the same order, for both strategies."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.tools.documents.real_surfaces import real_surfaces
from tools.documents.grids import STRATEGIES
from tools.documents.tableedges import WordBox, merge_edges, table_edges
from tools.documents.textlayer import word_boxes


def _theirs(surface: Any, settings: dict[str, Any]) -> list[dict[str, Any]]:
    from pdfplumber.table import TableFinder, TableSettings

    finder = TableFinder.__new__(TableFinder)
    finder.page = surface
    finder.settings = TableSettings.resolve(settings)
    return finder.get_edges()


def _ours(surface: Any, settings: dict[str, Any], words: list[WordBox]) -> list[dict[str, Any]] | None:
    from pdfplumber.table import TableSettings

    return table_edges(TableSettings.resolve(settings), surface.edges, lambda: words)


def _exactly(ours: list[dict[str, Any]] | None, theirs: list[dict[str, Any]]) -> bool:
    assert ours is not None
    return ours == theirs and [list(e.items()) for e in ours] == [list(e.items()) for e in theirs]


class _Words:
    """A page as pdfplumber's finder reads it for the text strategy: its words as dicts."""

    def __init__(self, words: list[WordBox]) -> None:
        self.words = words
        self.edges: list[dict[str, Any]] = []

    def extract_words(self, **_settings: Any) -> list[dict[str, Any]]:
        return [
            {"text": t, "x0": x0, "x1": x1, "top": top, "bottom": bottom}
            for t, x0, top, x1, bottom in self.words
        ]


def _random_words(rng: random.Random) -> list[WordBox]:
    """Words in rows and loosely aligned columns (left, right and centre alignments, near misses
    around the one-point cluster tolerance, repeated values)."""
    columns = sorted(rng.sample(range(20, 500, 7), rng.randint(1, 6)))
    words = []
    for row in range(rng.randint(0, 12)):
        top = 100 + row * rng.choice([10, 12.5, 14]) + rng.choice([0, 0, 0.4, 0.9, 1.1])
        for x in columns:
            if rng.random() < 0.2:
                continue
            width = rng.choice([12.0, 20.25, 31.5])
            x0 = x + rng.choice([0, 0, 0.3, 0.7, 1.2, -0.8]) - rng.choice([0, 0, width / 2, width])
            words.append(("w", x0, top, x0 + width, top + rng.choice([8, 9.6])))
    rng.shuffle(words)
    return words


def _random_edges(rng: random.Random) -> list[dict[str, Any]]:
    """Ruling segments as vectors.py makes them (all keys), on a lattice with near misses and
    overlaps, so that snapping moves them and joining extends them; a few too short to keep."""
    edges = []
    for _ in range(rng.randint(0, 40)):
        x = rng.choice(range(0, 200, 20)) + rng.choice([0, 0, 0.5, 1.7, 2.9, 3, 3.2])
        y = rng.choice(range(0, 200, 20)) + rng.choice([0, 0, 0.5, 1.7, 2.9, 3, 3.2])
        length = rng.choice([0, 0.5, 2, 10, 25.3, 60])
        vertical = rng.random() < 0.5
        x1, bottom = (x, y + length) if vertical else (x + length, y)
        edges.append(
            {
                "object_type": rng.choice(["line", "rect"]),
                "x0": x,
                "x1": x1,
                "top": y,
                "bottom": bottom,
                "doctop": y,
                "width": x1 - x,
                "height": bottom - y,
                "orientation": "v" if vertical else "h",
            }
        )
    return edges


def test_text_strategy_edges_equal_pdfplumbers_on_random_words() -> None:
    rng = random.Random(11)
    found = 0
    for _ in range(400):
        words = _random_words(rng)
        page = _Words(words)
        theirs = _theirs(page, STRATEGIES["text"])
        assert _exactly(_ours(page, STRATEGIES["text"], words), theirs)
        found += len(theirs)
    assert found > 1000


def test_lines_strategy_edges_equal_pdfplumbers_on_random_segments() -> None:
    rng = random.Random(12)
    found = 0
    for _ in range(400):
        page = _Words([])
        page.edges = _random_edges(rng)
        theirs = _theirs(page, STRATEGIES["lines"])
        assert _exactly(_ours(page, STRATEGIES["lines"], []), theirs)
        found += len(theirs)
    assert found > 1000


@pytest.mark.parametrize("tolerance", [0, 1, 3])
def test_merge_equals_pdfplumbers_with_each_tolerance(tolerance: float) -> None:
    from pdfplumber.table import merge_edges as theirs

    rng = random.Random(13)
    for _ in range(100):
        edges = _random_edges(rng)
        ours = merge_edges(edges, tolerance, tolerance, tolerance, tolerance)
        assert _exactly(ours, theirs(edges, tolerance, tolerance, tolerance, tolerance))


def test_a_coordinate_that_is_not_a_number_is_left_to_pdfplumber() -> None:
    from pdfplumber.table import TableSettings

    words: list[WordBox] = [("a", float("nan"), 1.0, 2.0, 3.0)]
    assert table_edges(TableSettings.resolve(STRATEGIES["text"]), [], lambda: words) is None
    edges = _random_edges(random.Random(1)) or [{"x0": 0.0, "x1": 0.0, "top": 0.0, "bottom": 5.0}]
    edges[0] = {**edges[0], "top": float("inf")}
    assert table_edges(TableSettings.resolve(STRATEGIES["lines"]), edges, list) is None
    assert table_edges(TableSettings.resolve(STRATEGIES["lines"]), edges[1:], list) is not None


def test_edges_of_real_pages_equal_pdfplumbers(shared_data: Path) -> None:
    """Every page of the real invoices, both strategies, from PDFium's characters and paths."""
    found = 0
    for name, page, surface in real_surfaces(shared_data):
        for settings in STRATEGIES.values():
            theirs = _theirs(surface, settings)
            assert _exactly(_ours(surface, settings, word_boxes(page.chars)), theirs), name
            found += len(theirs)
    assert found > 500
