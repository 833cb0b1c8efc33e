"""A lattice table's rows and cell texts, built from its lines in one pass over the characters,
equal what they replace: pdfplumber's ``Table.rows`` and :meth:`Surface.texts` row by row."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from tests.tools.documents.real_surfaces import real_surfaces
from tools.documents.finder import Lattice
from tools.documents.grids import STRATEGIES, _regions
from tools.documents.surface import Surface, find_tables, table_texts
from tools.documents.textlayer import Char


def _row_by_row(surface: Surface, table: Any) -> list[tuple[list[Any], list[str]]]:
    """The replaced reading: pdfplumber's rows of the table's cells, each row's texts on its own."""
    from pdfplumber.table import Table

    return [(row.cells, surface.texts(row.cells)) for row in Table(surface, table.cells).rows]  # type: ignore[arg-type]


def _random_chars(rng: random.Random, xs: list[float], ys: list[float]) -> list[Char]:
    """Characters in and around the lattice, some centred exactly on a line, some turned."""
    chars: list[Char] = []
    for _ in range(rng.randint(0, 80)):
        if rng.random() < 0.2:  # centre on a column or row line
            x = rng.choice(xs) - 2.0
            top = rng.choice(ys) - 5.0
        else:
            x = rng.uniform(xs[0] - 20, xs[-1] + 20)
            top = rng.uniform(ys[0] - 20, ys[-1] + 20)
        text = rng.choice(["a", "B", "7", "ﬁ", "\x02", "\ufffd", "-"])
        chars.append((text, x, top, x + 4.0, top + 10.0, rng.random() > 0.1, rng.random() < 0.2))
    return chars


def test_lattice_rows_and_texts_equal_pdfplumbers_rows_read_one_by_one() -> None:
    rng = random.Random(17)
    for _ in range(400):
        xs = sorted(rng.sample([float(v) for v in range(0, 400, 7)], rng.randint(2, 8)))
        ys = sorted(rng.sample([10.0 + 1.5 * v for v in range(200)], rng.randint(2, 12)))
        if (len(xs) - 1) * (len(ys) - 1) < 2:
            continue
        lattice = Lattice(xs, ys)
        surface = Surface((0.0, 0.0, 500.0, 500.0), _random_chars(rng, xs, ys), [])
        assert lattice.bbox == tuple(float(v) for v in _plumber_bbox(lattice))
        assert table_texts(surface, lattice) == _row_by_row(surface, lattice)


def _plumber_bbox(lattice: Lattice) -> tuple[float, float, float, float]:
    from pdfplumber.table import Table

    return Table(None, lattice.cells).bbox  # type: ignore[arg-type]


def test_a_centre_that_is_not_a_number_reads_the_rows_one_by_one() -> None:
    """Such a centre leaves the sorted centres unordered: the row-by-row reading, as before."""
    lattice = Lattice([0.0, 50.0, 100.0], [0.0, 20.0, 40.0])
    chars: list[Char] = [
        ("a", 10.0, 2.0, 14.0, 12.0, True, False),
        ("b", 60.0, math.nan, 64.0, 12.0, True, False),
        ("c", 60.0, 22.0, 64.0, 32.0, True, False),
    ]
    surface = Surface((0.0, 0.0, 200.0, 200.0), chars, [])
    assert surface.lattice_texts(lattice.xs, lattice.ys) == []
    assert table_texts(surface, lattice) == _row_by_row(surface, lattice)


def test_lattice_tables_of_real_pages_read_as_row_by_row(shared_data: Path) -> None:
    """Every real page, both strategies on the whole page and the text one on each table region
    (as :func:`~tools.documents.grids.text_grids` crops it)."""
    read = 0
    for name, page, surface in real_surfaces(shared_data):
        surfaces = [(surface, strategy) for strategy in STRATEGIES]
        surfaces += [(surface.crop((0.0, top, page.width, bottom)), "text") for top, bottom in _regions(page)]
        for each, strategy in surfaces:
            for table in find_tables(each, STRATEGIES[strategy]):
                if isinstance(table, Lattice):
                    assert table_texts(each, table) == _row_by_row(each, table), (name, page.number)
                    read += 1
    assert read > 10
