"""Line items from the tables pdfplumber finds in a text layer (ruled and unruled strategies).

Contract: :func:`read_grids` returns the :class:`Grid` s of one pdfplumber page, tried only when the
word layout shows a line-item header (a page without one has no table worth the time): the ``lines``
strategy for ruled tables, and the ``text`` strategy (columns from word alignment) when no ruled
table with a header was found. :func:`grid_items` reads the grids of one strategy into
:class:`ItemHit` s whose boxes are the table cells'. Choosing between these and the word-position
reader is :func:`tools.documents.lines.find_lines`' job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from tools.documents.document import (
    Document,
    Hit,
    column_labels,
    is_header_columns,
    is_table_header,
    match_tokens,
)
from tools.documents.items import ItemHit, cell_value, is_item
from tools.documents.labels import CARRIED_TOKENS, HEADER_TOKENS, tokens
from tools.documents.layout import Cell, Grid, Line, Page, Word

Strategy = Literal["lines", "text"]
STRATEGIES: dict[Strategy, dict[str, Any]] = {
    "lines": {"vertical_strategy": "lines", "horizontal_strategy": "lines"},
    # Two aligned words make a column edge: a one-invoice table has only its header and one row.
    "text": {"vertical_strategy": "text", "horizontal_strategy": "text", "min_words_vertical": 2},
}
_TOTAL_TOKENS = HEADER_TOKENS["total_amount"]


def _grids(region: Any, number: int, strategy: Strategy) -> list[Grid]:
    grids = []
    for table in region.find_tables(STRATEGIES[strategy]):
        rows: list[list[Cell | None]] = []
        for row, texts in zip(table.rows, table.extract(), strict=False):
            cells: list[Cell | None] = []
            for box, text in zip(row.cells, texts, strict=False):
                joined = " ".join((text or "").split())
                cells.append(Cell(joined, (box[0], box[1], box[2], box[3])) if box and joined else None)
            rows.append(cells)
        x0, top, x1, bottom = (float(v) for v in table.bbox)
        grids.append(Grid(number, strategy, (x0, top, x1, bottom), rows))
    return grids


def _regions(page: Page) -> list[tuple[float, float]]:
    """(top, bottom) of each table on the page: from its header line down to its total row."""
    regions = []
    for index, line in enumerate(page.lines):
        if not is_table_header(line):
            continue
        bottom = page.height
        for following in page.lines[index + 1 :]:
            if is_table_header(following) or any(
                match_tokens(seg.keys, 0, label) for seg in following.segments for label in _TOTAL_TOKENS
            ):
                bottom = following.top - 0.5
                break
        regions.append((max(0.0, line.top - 1), bottom))
    return regions


def read_grids(open_page: Callable[[], Any], page: Page) -> list[Grid]:
    """``open_page`` returns the pdfplumber page; it is called (pdfminer parses the page, the slow
    part of reading a PDF) only when the word layout shows a table."""
    regions = _regions(page)
    if not regions:
        return []
    plumber_page = open_page()
    ruled = _grids(plumber_page, page.number, "lines")
    if any(_header_line(page.lines, grid) is not None for grid in ruled):
        return ruled  # a ruled table with a header: the text strategy would only re-read it
    # Word alignment finds columns only where the table is alone: the key-value lines above it
    # would otherwise become columns of their own.
    text: list[Grid] = []
    for top, bottom in regions:
        region = plumber_page.crop((0, top, float(plumber_page.width), bottom), strict=False)
        text += _grids(region, page.number, "text")
    return ruled + text


def _header_line(lines: list[Line], grid: Grid) -> Line | None:
    """The line-item header line (read from the words) that lies inside the grid."""
    _, top, _, bottom = grid.bbox
    for line in lines:
        centre = (line.top + line.bottom) / 2
        if line.page == grid.page and top - 1 <= centre <= bottom + 1 and is_table_header(line):
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


def _starts(text: str, labels: list[tuple[str, ...]]) -> bool:
    keys = list(tokens(text))
    return any(match_tokens(keys, 0, label) for label in labels)


def _grid_rows(doc: Document, grid: Grid) -> list[ItemHit]:
    header = _header_line(doc.lines, grid)
    found = _columns(grid, header) if header is not None else None
    if found is None:
        return []
    start, columns = found
    items: list[ItemHit] = []
    for row in grid.rows[start + 1 :]:
        texts = [cell.text for cell in row if cell is not None]
        if any(_starts(text, _TOTAL_TOKENS) for text in texts):
            break  # the table ends at its total row
        if any(_starts(text, CARRIED_TOKENS) for text in texts):
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
        for grid in page.tables
        if grid.strategy == strategy
        for item in _grid_rows(doc, grid)
    ]
