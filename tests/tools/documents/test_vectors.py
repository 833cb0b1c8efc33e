"""Ruling lines and table cells from PDFium objects agree with what pdfplumber makes of the page."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

from tests.tools.documents.real_surfaces import real_surfaces
from tests.tools.documents.remittance_layouts import italian_stacked_labels, spanish_boxed
from tools.documents.finder import find_cells as _cells
from tools.documents.finder import find_intersections as _intersections
from tools.documents.finder import group_cells as _cell_groups
from tools.documents.finder import lattice_tables
from tools.documents.grids import STRATEGIES
from tools.documents.pdfium import OpenPage, close_document, open_document
from tools.documents.surface import find_tables
from tools.documents.vectors import page_edges, shape_edges


def test_subpaths_become_lines_rectangles_and_curves_as_pdfminer_makes_them() -> None:
    [line] = shape_edges("ml", [(10.0, 5.0), (90.0, 5.0)])
    assert (line["object_type"], line["orientation"], line["x0"], line["x1"]) == ("line", "h", 10, 90)
    square: list[tuple[float, float]] = [(10, 10), (50, 10), (50, 30), (10, 30), (10, 10)]
    assert sorted(e["orientation"] for e in shape_edges("mlllh", square)) == ["h", "h", "v", "v"]
    # A closing "l" back to the start before "h" is dropped, and the path is still a rectangle.
    assert {e["object_type"] for e in shape_edges("mllllh", [*square, (10, 10)])} == {"rect_edge"}
    curve = shape_edges("mlc", [(0, 0), (10, 0), (20, 7)])
    assert [e["orientation"] for e in curve] == ["h", None]


Key = tuple[str, float, float, float, float]


def _key(edge: dict[str, Any]) -> Key:
    return (edge["orientation"], edge["x0"], edge["top"], edge["x1"], edge["bottom"])


def _close(a: Key, b: Key) -> bool:
    return a[0] == b[0] and all(abs(x - y) < 0.01 for x, y in zip(a[1:], b[1:], strict=True))


def _same(ours: list[Key], theirs: list[Key]) -> bool:
    """The same edges, each coordinate within 0.01 pt (PDFium keeps points as 32-bit floats)."""
    left = list(theirs)
    for edge in ours:
        match = next((t for t in left if _close(t, edge)), None)
        if match is None:
            return False
        left.remove(match)
    return not left


def test_edges_of_ruled_tables_equal_pdfplumbers() -> None:
    import pdfplumber

    for advice in (italian_stacked_labels(), spanish_boxed()):
        with pdfplumber.open(io.BytesIO(advice.pdf)) as plumber:
            theirs = [_key(e) for e in plumber.pages[0].edges if e["orientation"] in ("h", "v")]
        document = open_document(advice.pdf)
        try:
            with OpenPage(document, 0) as page:
                ours = [_key(e) for e in page_edges(page.get()) if e["orientation"] in ("h", "v")]
        finally:
            close_document(document)
        assert _same(ours, theirs) and len(ours) > 10


def _random_edges(rng: random.Random) -> list[dict[str, Any]]:
    """Ruling lines on a coarse lattice, so that they meet, overlap, repeat and stop short: some
    columns and rows carry several segments (a point then lies on more than one edge)."""
    xs = sorted(rng.sample(range(0, 100, 5), rng.randint(2, 7)))
    ys = sorted(rng.sample(range(0, 100, 5), rng.randint(2, 7)))
    edges = []
    for x in xs:
        for _ in range(rng.choice([1, 1, 2, 3])):
            top = rng.choice(ys)
            edges.append(
                {"x0": x, "x1": x, "top": top, "bottom": top + rng.choice([0, 10, 60]), "orientation": "v"}
            )
    for y in ys:
        for _ in range(rng.choice([1, 1, 2, 3])):
            x0 = rng.choice(xs) + rng.choice([0, 0, 1.5])  # near misses test the tolerance
            edges.append(
                {"x0": x0, "x1": x0 + rng.choice([0, 10, 60]), "top": y, "bottom": y, "orientation": "h"}
            )
    rng.shuffle(edges)
    return edges


def test_intersections_cells_and_tables_equal_pdfplumbers_on_random_grids() -> None:
    """The table finder's three steps, rewritten for speed, give pdfplumber's results exactly:
    the same points with the same edges in the same order, the same cells, the same tables."""
    from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells

    rng = random.Random(5)
    for _ in range(300):
        edges = _random_edges(rng)
        intersections = _intersections(edges, 3, 3)
        theirs = edges_to_intersections(edges, 3, 3)
        assert list(intersections.items()) == list(theirs.items())
        cells = _cells(intersections)
        assert cells == intersections_to_cells(theirs)
        assert _cell_groups(cells) == cells_to_tables(cells)


def test_tables_of_real_pages_equal_pdfplumbers_finder(shared_data: Path) -> None:
    """On every page of the real invoices, both strategies: the finder over PDFium's characters
    and edges finds pdfplumber's tables, cell for cell."""
    from pdfplumber.table import TableFinder, TableSettings

    found = 0
    for name, page, surface in real_surfaces(shared_data):
        for strategy, settings in STRATEGIES.items():
            finder = TableFinder(surface, TableSettings.resolve(settings))  # type: ignore[arg-type]
            theirs = [table.cells for table in finder.tables]
            ours = [table.cells for table in find_tables(surface, settings)]
            assert ours == theirs, (name, page.number, strategy)
            found += len(ours)
    assert found > 5


def test_cells_equal_pdfplumbers_on_random_grids() -> None:
    from pdfplumber.table import edges_to_intersections, intersections_to_cells

    rng = random.Random(5)
    for _ in range(200):
        xs = sorted(rng.sample(range(0, 100, 5), rng.randint(2, 7)))
        ys = sorted(rng.sample(range(0, 100, 5), rng.randint(2, 7)))
        edges = [
            {
                "x0": x,
                "x1": x,
                "top": rng.choice(ys),
                "bottom": rng.choice(ys) + rng.choice([0, 10, 60]),
                "orientation": "v",
            }
            for x in xs
        ] + [
            {
                "x0": rng.choice(xs),
                "x1": rng.choice(xs) + rng.choice([0, 10, 60]),
                "top": y,
                "bottom": y,
                "orientation": "h",
            }
            for y in ys
        ]
        intersections = edges_to_intersections(edges, 3, 3)
        assert _cells(intersections) == intersections_to_cells(intersections)


def test_edges_from_the_first_walk_equal_a_fresh_walk_and_a_reloaded_page_walks_again(
    shared_data: Path,
) -> None:
    """The path objects found with the images give the same edges as walking the page again;
    after the page is let go (OCR of its pictures does that) its old objects are not used."""
    from tools.documents.pdf import _edges
    from tools.documents.textlayer import read_layer

    data = (shared_data / "invoices" / "invoice2data" / "AzureInterior.pdf").read_bytes()
    document = open_document(data)
    try:
        page = OpenPage(document, 0)
        try:
            layer = read_layer(page.get())
            load = page.loads
            fresh = page_edges(page.get())
            assert len(fresh) > 10 and page_edges(page.get(), layer.paths) == fresh
            page.close()
            assert _edges(page, layer.paths, load) == fresh  # reloaded: walked again, same edges
            assert page.loads == load + 1
        finally:
            page.close()
    finally:
        close_document(document)


def _random_lattice(rng: random.Random) -> list[dict[str, Any]]:
    """Edges as the text strategy makes them: columns spanning the same rows, rows spanning the
    same columns; some lines lie just outside the other side's span (within the tolerance or not)."""
    top, bottom = rng.choice([100, 120.5]), rng.choice([100, 100.5, 200, 400])
    x0, x1 = rng.choice([50, 70.25]), rng.choice([50, 300, 500.5])
    xs = rng.sample(
        [x0 + d for d in (-4, -3, -2.5, 0, 0.5, 40, 80.25, 160)] + [x1, x1 + 2.9, x1 + 3.1], rng.randint(1, 7)
    )
    ys = rng.sample(
        [top + d for d in (-3.5, -3, -1, 0, 10, 22.5, 35)] + [bottom, bottom + 3, bottom + 3.2],
        rng.randint(1, 7),
    )
    edges: list[dict[str, Any]] = [
        {"x0": x, "x1": x, "top": top, "bottom": bottom, "height": bottom - top, "orientation": "v"}
        for x in xs
    ] + [{"x0": x0, "x1": x1, "top": y, "bottom": y, "width": x1 - x0, "orientation": "h"} for y in ys]
    rng.shuffle(edges)
    return edges


def test_lattice_tables_equal_pdfplumbers_three_steps() -> None:
    """Where the edges make a lattice the table is built at once: pdfplumber's tables, cell for
    cell, in its order; anything else (a second edge on a line, a shorter one) is left to the steps."""
    from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells

    rng = random.Random(7)
    built = 0
    for _ in range(400):
        edges = _random_lattice(rng)
        if rng.random() < 0.25:  # no longer a lattice
            edges.append({**rng.choice(edges), "x0": 75.0, "x1": 75.0, "top": 101.0})
        tolerance = rng.choice([0, 1, 3])
        theirs = cells_to_tables(intersections_to_cells(edges_to_intersections(edges, tolerance, tolerance)))
        ours = lattice_tables(edges, tolerance, tolerance)
        if ours is None:
            ours = _cell_groups(_cells(_intersections(edges, tolerance, tolerance)))
        else:
            built += bool(ours)
        assert ours == theirs
    assert built > 40  # lattices that make a table (many random spans make none)
    assert lattice_tables(_random_edges(random.Random(3)) * 2, 3, 3) is None
