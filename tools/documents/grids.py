"""Line items from the tables pdfplumber's table finder sees in a text layer (ruled and unruled).

Contract: :func:`read_grids` returns the ruled :class:`Grid` s of one page (the ``lines`` strategy)
that hold a line-item header line, tried only when the word layout shows one (a table without a
header gives no items, so its cells are not read); :func:`text_grids` those of the ``text``
strategy (columns from word alignment) on a page where no ruled one was found, computed only
when asked. The finder reads a :class:`Surface` built from what PDFium already gave the page (its
characters, and the edges of its painted paths, :mod:`~.vectors`), not pdfplumber's own page:
pdfminer would interpret the content stream again, in Python, at ten to a hundred times the cost;
its steps after the edges are :mod:`~.finder`'s. :func:`grid_items` reads the grids of one
strategy into :class:`ItemHit` s whose boxes are the table cells'. Choosing between these and the
word-position reader is :func:`tools.documents.lines.find_lines`' job.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tools.documents.document import (
    Document,
    Hit,
    LabelSet,
    column_labels,
    is_header_columns,
    is_table_header,
)
from tools.documents.finder import Bbox, find_cells, find_intersections, group_cells, lattice_tables
from tools.documents.items import ItemHit, cell_value, is_item
from tools.documents.labels import CARRIED_TOKENS, HEADER_TOKENS, tokens
from tools.documents.layout import Cell, Grid, Line, Page, Word
from tools.documents.tableedges import table_edges
from tools.documents.textlayer import Char, word_boxes, word_texts

Strategy = Literal["lines", "text"]
STRATEGIES: dict[Strategy, dict[str, Any]] = {
    "lines": {"vertical_strategy": "lines", "horizontal_strategy": "lines"},
    # Two aligned words make a column edge: a one-invoice table has only its header and one row.
    "text": {"vertical_strategy": "text", "horizontal_strategy": "text", "min_words_vertical": 2},
}
_TOTALS = LabelSet(HEADER_TOKENS["total_amount"])
_CARRIED = LabelSet(CARRIED_TOKENS)


def _clip(chars: list[Char], box: tuple[float, float, float, float]) -> list[Char]:
    """The characters that overlap ``box``, their boxes cut to it (pdfplumber's ``crop``). Those
    above or below it are passed over and those inside it kept as they are: the same result as
    cutting every box, at a comparison or two a character."""
    x0, top, x1, bottom = box
    clipped = []
    for char in chars:
        _, cx0, ctop, cx1, cbottom, _, _ = char
        if ctop > bottom or cbottom < top:
            continue  # no overlap: lower - upper < 0
        if cx0 >= x0 and cx1 <= x1 and ctop >= top and cbottom <= bottom:
            # max/min below would return the character's own edges
            if cx1 - cx0 >= 0 and cbottom - ctop >= 0 and (cx1 - cx0) + (cbottom - ctop) > 0:
                clipped.append(char)
            continue
        text, upright, gap = char[0], char[5], char[6]
        left, right, upper, lower = max(cx0, x0), min(cx1, x1), max(ctop, top), min(cbottom, bottom)
        if right - left >= 0 and lower - upper >= 0 and (right - left) + (lower - upper) > 0:
            clipped.append((text, left, upper, right, lower, upright, gap))
    return clipped


@dataclass
class Surface:
    """What pdfplumber's ``TableFinder`` reads of a page: its box, edges, and words."""

    bbox: Bbox
    chars: list[Char]
    edges: list[dict[str, Any]]
    # The characters' order by vertical centre, and those centres: a row's are found by bisection.
    _order: list[int] | None = field(default=None, repr=False)
    _middles: list[float] = field(default_factory=list, repr=False)

    def extract_words(self, **_settings: Any) -> list[dict[str, Any]]:
        """pdfplumber's default word grouping (:func:`~.textlayer.words_from_chars` follows it),
        as the dicts its table finder reads."""
        return [
            {"text": text, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top}
            for text, x0, top, x1, bottom in word_boxes(self.chars)
        ]

    def crop(self, box: tuple[float, float, float, float]) -> Surface:
        from pdfplumber.utils import crop_to_bbox

        return Surface(box, _clip(self.chars, box), crop_to_bbox(self.edges, box))

    def texts(self, cells: list[Bbox | None]) -> list[str]:
        """Each cell's text, from the characters whose centre lies in it (pdfplumber's
        ``Table.extract``), words joined by single spaces. ``cells`` are one row's."""
        boxes = [box for box in cells if box is not None]
        if not boxes:
            return ["" for _ in cells]
        if self._order is None:
            self._order = sorted(range(len(self.chars)), key=lambda i: _middle(self.chars[i]))
            self._middles = [_middle(self.chars[i]) for i in self._order]
        top, bottom = min(b[1] for b in boxes), max(b[3] for b in boxes)
        span = self._order[bisect.bisect_left(self._middles, top) : bisect.bisect_left(self._middles, bottom)]
        row = [self.chars[i] for i in sorted(span)]  # in page order, as pdfplumber reads them
        return [" ".join(word_texts(inside)) if inside else "" for inside in _share(row, cells)]


def _middle(char: Char) -> float:
    return (char[2] + char[4]) / 2


def _inside(char: Char, box: Bbox) -> bool:
    x, y = (char[1] + char[3]) / 2, (char[2] + char[4]) / 2
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def _share(chars: list[Char], cells: list[Bbox | None]) -> list[list[Char]]:
    """The characters (in their order) whose centre lies in each cell. Cells side by side are
    found by bisection on their left edges; overlapping ones (a rare cell layout) by testing each."""
    shares: list[list[Char]] = [[] for _ in cells]
    placed = sorted((box[0], i, box) for i, box in enumerate(cells) if box is not None)
    if any(a[2][2] > b[2][0] for a, b in itertools.pairwise(placed)):
        for _, i, box in placed:
            shares[i] = [c for c in chars if _inside(c, box)]
        return shares
    lefts = [x0 for x0, _, _ in placed]
    for char in chars:
        x = (char[1] + char[3]) / 2
        k = bisect.bisect_right(lefts, x) - 1
        if k >= 0:
            _, i, box = placed[k]
            y = (char[2] + char[4]) / 2  # _inside, written out: this runs for every character
            if box[0] <= x < box[2] and box[1] <= y < box[3]:
                shares[i].append(char)
    return shares


def _tables(surface: Surface, settings: dict[str, Any]) -> list[Any]:
    """pdfplumber's ``TableFinder(surface, settings).tables`` with :mod:`~.tableedges`' edges
    and :mod:`~.finder`'s intersections, cells and tables."""
    from pdfplumber.table import Table, TableFinder, TableSettings

    finder = TableFinder.__new__(TableFinder)
    finder.page = surface  # type: ignore[assignment]
    finder.settings = TableSettings.resolve(settings)
    edges = table_edges(finder.settings, surface.edges, lambda: word_boxes(surface.chars))
    finder.edges = finder.get_edges() if edges is None else edges
    x_tolerance, y_tolerance = (
        finder.settings.intersection_x_tolerance,
        finder.settings.intersection_y_tolerance,
    )
    groups = lattice_tables(finder.edges, x_tolerance, y_tolerance)
    if groups is None:
        finder.intersections = find_intersections(finder.edges, x_tolerance, y_tolerance)
        finder.cells = find_cells(finder.intersections)
        groups = group_cells(finder.cells)
    return [Table(surface, group) for group in groups]  # type: ignore[arg-type]


def _grids(surface: Surface, page: Page, strategy: Strategy) -> list[Grid]:
    """The tables of ``strategy`` that hold a line-item header line (read from the words): only
    those can give items (:func:`_grid_rows`), so the others' cells are never read."""
    grids = []
    for table in _tables(surface, STRATEGIES[strategy]):
        x0, top, x1, bottom = (float(v) for v in table.bbox)
        if _header_line(page.lines, page.number, top, bottom) is None:
            continue
        rows: list[list[Cell | None]] = []
        for row in table.rows:
            cells: list[Cell | None] = []
            for box, text in zip(row.cells, surface.texts(row.cells), strict=True):
                text = " ".join(text.split())
                cells.append(Cell(text, (box[0], box[1], box[2], box[3])) if box and text else None)
            rows.append(cells)
        grids.append(Grid(page.number, strategy, (x0, top, x1, bottom), rows))
    return grids


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


def read_grids(page: Page, chars: list[Char], edges: Callable[[], list[dict[str, Any]]]) -> list[Grid]:
    """The page's ruled tables with a header line; ``edges`` (the painted paths' edges) is called
    only when the word layout shows a table. The text-aligned ones are read when asked
    (:func:`text_grids`, from ``Page.chars``): often the word positions already read the table."""
    if not _regions(page):
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


def _starts(text: str, labels: LabelSet) -> bool:
    return labels.starts(list(tokens(text)))


def _grid_rows(doc: Document, grid: Grid) -> list[ItemHit]:
    header = _header_line(doc.lines, grid.page, grid.bbox[1], grid.bbox[3])
    found = _columns(grid, header) if header is not None else None
    if found is None:
        return []
    start, columns = found
    items: list[ItemHit] = []
    for row in grid.rows[start + 1 :]:
        texts = [cell.text for cell in row if cell is not None]
        if any(_starts(text, _TOTALS) for text in texts):
            break  # the table ends at its total row
        if any(_starts(text, _CARRIED) for text in texts):
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
