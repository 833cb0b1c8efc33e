"""Line items from the tables pdfplumber's table finder sees in a text layer (ruled and unruled).

Contract: :func:`read_grids` returns the ruled :class:`Grid` s of one page (the ``lines`` strategy)
that hold a line-item header line, tried only when the word layout shows one (a table without a
header gives no items, so its cells are not read); :func:`text_grids` those of the ``text``
strategy (columns from word alignment) on a page where no ruled one was found, computed only
when asked. The finder reads a :class:`~.surface.Surface` built from what PDFium already gave the
page (its characters, and the edges of its painted paths, :mod:`~.vectors`), not pdfplumber's own
page: pdfminer would interpret the content stream again, in Python, at ten to a hundred times the
cost; :mod:`~.surface` finds the tables and reads their cells. :func:`grid_items` reads the grids of one
strategy into :class:`ItemHit` s whose boxes are the table cells'. Choosing between these and the
word-position reader is :func:`tools.documents.lines.find_lines`' job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from tools.documents.document import (
    Document,
    Hit,
    LabelSet,
    column_labels,
    is_header_columns,
    is_table_header,
)
from tools.documents.finder import Lattice
from tools.documents.items import ItemHit, cell_value, is_item
from tools.documents.labels import CARRIED_TOKENS, HEADER_TOKENS, tokens
from tools.documents.layout import Cell, Grid, Line, Page, Word
from tools.documents.surface import Surface, find_tables, table_texts
from tools.documents.textlayer import Char

Strategy = Literal["lines", "text"]
STRATEGIES: dict[Strategy, dict[str, Any]] = {
    "lines": {"vertical_strategy": "lines", "horizontal_strategy": "lines"},
    # Two aligned words make a column edge: a one-invoice table has only its header and one row.
    "text": {"vertical_strategy": "text", "horizontal_strategy": "text", "min_words_vertical": 2},
}
_TOTALS = LabelSet(HEADER_TOKENS["total_amount"])
_CARRIED = LabelSet(CARRIED_TOKENS)


def _grids(surface: Surface, page: Page, strategy: Strategy) -> list[Grid]:
    """The tables of ``strategy`` that hold a line-item header line (read from the words): only
    those can give items (:func:`_grid_rows`), so the others' cells are never read."""
    grids = []
    for table in find_tables(surface, STRATEGIES[strategy]):
        x0, top, x1, bottom = (float(v) for v in table.bbox)
        if _header_line(page.lines, page.number, top, bottom) is None:
            continue
        if _column_count(table) < 2:
            # One column cannot hold a description and an amount (``is_header_columns``), so
            # its cells are not read; the grid stays, as a ruled table the text finder would re-read.
            grids.append(Grid(page.number, strategy, (x0, top, x1, bottom), []))
            continue
        rows: list[list[Cell | None]] = []
        for boxes, texts in table_texts(surface, table):
            cells: list[Cell | None] = []
            for box, text in zip(boxes, texts, strict=True):
                if text:  # most cells of a text-aligned grid are empty
                    text = " ".join(text.split())
                cells.append(Cell(text, (box[0], box[1], box[2], box[3])) if box and text else None)
            rows.append(cells)
        grids.append(Grid(page.number, strategy, (x0, top, x1, bottom), rows))
    return grids


def _column_count(table: Any) -> int:
    """How many columns :func:`~.surface.table_texts` would give the table's rows (each row has one
    entry per column, an empty cell included)."""
    if isinstance(table, Lattice):
        return len(table.xs) - 1
    return max((len(row.cells) for row in table.rows), default=0)


def _regions(page: Page) -> list[tuple[float, float]]:
    """(top, bottom) of each table on the page: from its header line down to its total row."""
    regions = []
    for index, line in enumerate(page.lines):
        if not is_table_header(line):
            continue
        bottom = page.height
        for following in page.lines[index + 1 :]:
            if is_table_header(following) or any(_TOTALS.starts(seg.keys) for seg in following.segments):
                bottom = following.top - 0.5
                break
        regions.append((max(0.0, line.top - 1), bottom))
    return regions


# How far from a header line's centre a path can lie and still make a table holding it. A header
# belongs to a table within 1 of its box, so to a cell within 1 of the centre (a table's cells meet
# at corners: their heights cover its box without gaps). Both corners of that cell's side lie on
# one vertical edge, each within the intersection tolerance (3) of the edge's ends, so the edge
# comes within 1 + 3 of the centre. That edge is painted segments joined across gaps of at most
# the join tolerance (3); snapping moves a vertical edge sideways only. So one painted segment,
# and the bounding box of its path, comes within 4 of the centre; 2 more for float rounding.
# Horizontal rules just above and below a header (a shaded header band) lie farther out.
_REACH = 6.0


def read_grids(
    page: Page,
    chars: list[Char],
    edges: Callable[[], list[dict[str, Any]]],
    reach: Callable[[list[float], float], bool] | None = None,
) -> list[Grid]:
    """The page's ruled tables with a header line; ``edges`` (the painted paths' edges) is called
    only when the word layout shows a table and ``reach`` (whether a path comes within a margin
    of one of the given heights) says that a path lies near one of its header lines: a table
    holding that line would need a vertical edge there. The text-aligned ones are read when asked
    (:func:`text_grids`, from ``Page.chars``): often the word positions already read the table."""
    if not _regions(page):
        return []
    if reach is not None:
        headers = [(line.top + line.bottom) / 2 for line in page.lines if is_table_header(line)]
        if not reach(headers, _REACH):
            return []
    return _grids(Surface((0.0, 0.0, page.width, page.height), chars, edges()), page, "lines")


def text_grids(page: Page) -> list[Grid]:
    """The tables that word alignment shows on a page without a ruled table under its header."""
    if not page.chars or page.tables:
        return []  # a ruled table with a header: the text strategy would only re-read it
    # Word alignment finds columns only where the table is alone: the key-value lines above it
    # would otherwise become columns of their own.
    surface = Surface((0.0, 0.0, page.width, page.height), page.chars, [])
    text: list[Grid] = []
    for top, bottom in _regions(page):
        text += _grids(surface.crop((0.0, top, page.width, bottom)), page, "text")
    return text


def _header_line(lines: list[Line], page: int, top: float, bottom: float) -> Line | None:
    """The line-item header line (read from the words) of ``page`` between ``top`` and ``bottom``
    (a grid's)."""
    for line in lines:
        centre = (line.top + line.bottom) / 2
        if line.page == page and top - 1 <= centre <= bottom + 1 and is_table_header(line):
            return line
    return None


def _columns(grid: Grid, header: Line) -> tuple[int, list[str | None]] | None:
    """The grid's header row and each column's name.

    Names come from the header labels of the word layout, each given to the grid column it overlaps
    most: pdfplumber's text strategy may cut a right-aligned label ("Gross | amount") where the
    figures below it start, so the header cells' own text is not reliable.
    """
    centre = (header.top + header.bottom) / 2
    start = next(
        (
            i
            for i, row in enumerate(grid.rows)
            if any(c is not None and c.bbox[1] - 1 <= centre <= c.bbox[3] + 1 for c in row)
        ),
        None,
    )
    if start is None:
        return None
    spans = grid.column_spans()
    names: list[str | None] = [None] * len(spans)
    for name, x0, x1 in column_labels(header):
        overlaps = [(min(x1, s[1]) - max(x0, s[0]) if s else 0.0, j) for j, s in enumerate(spans)]
        best, column = max(overlaps, default=(0.0, 0))
        if best > 0 and names[column] is None:
            names[column] = name
    if not is_header_columns([n for n in names if n]):
        return None
    return start, names


def _grid_rows(doc: Document, grid: Grid) -> list[ItemHit]:
    header = _header_line(doc.lines, grid.page, grid.bbox[1], grid.bbox[3])
    found = _columns(grid, header) if header is not None else None
    if found is None:
        return []
    start, columns = found
    items: list[ItemHit] = []
    for row in grid.rows[start + 1 :]:
        keys = [list(tokens(cell.text)) for cell in row if cell is not None]  # once for both tests
        if any(_TOTALS.starts(k) for k in keys):
            break  # the table ends at its total row
        if any(_CARRIED.starts(k) for k in keys):
            continue
        item = ItemHit()
        for name, cell in zip(columns, row, strict=False):
            if name is None or cell is None or name in item.values:
                continue
            word = Word(cell.text, *cell.bbox, grid.page)  # the cell is the provenance box
            value = cell_value(doc, name, Hit(cell.text, [word]))
            if value is not None:
                item.values[name] = value
        if is_item(item):
            items.append(item)
    return items


def grid_items(doc: Document, strategy: Strategy) -> list[ItemHit]:
    """Items of every grid of ``strategy``, in page order (a table continued on the next page
    repeats its header there, so each page's grid reads on its own)."""
    return [
        item
        for page in doc.pages
        for grid in (page.tables if strategy == "lines" else text_grids(page))
        if grid.strategy == strategy
        for item in _grid_rows(doc, grid)
    ]
