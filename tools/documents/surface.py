"""A page as pdfplumber's table finder reads it, the tables found there, and their cells' texts.

Contract: :class:`Surface` is what ``TableFinder`` reads of a page (box, PDFium's characters, path
edges); :func:`find_tables` is ``TableFinder(surface, settings).tables`` with :mod:`~.tableedges`'
edges and :mod:`~.finder`'s steps (a :class:`~.finder.Lattice` where the edges make one); and
:func:`table_texts` each row's cells and texts as pdfplumber's ``Table.rows`` read row by row with
:meth:`Surface.texts` give them (a lattice in one pass over the characters). Used by :mod:`~.grids`.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import Any

from tools.documents.finder import Bbox, Lattice, find_cells, find_intersections, group_cells, lattice_lines
from tools.documents.tableedges import table_edges
from tools.documents.textlayer import Char, word_boxes, word_texts


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

    def lattice_texts(self, xs: list[float], ys: list[float]) -> list[list[str]]:
        """:meth:`texts` of every row of the lattice with column lines ``xs`` and row lines ``ys``
        (:meth:`~.finder.Lattice.rows`), in one pass over the characters: a character's cell is
        found by bisection on both lines. Empty where a character's vertical centre is not a number
        (:meth:`texts` finds a row's characters in the sorted centres, which such a centre
        leaves unordered): the caller then reads the rows one by one."""
        columns = len(xs) - 1
        shares: dict[int, list[Char]] = {}
        left, right, upper, lower = xs[0], xs[-1], ys[0], ys[-1]
        find = bisect.bisect_right
        for char in self.chars:
            y = (char[2] + char[4]) / 2
            if upper <= y < lower:
                x = (char[1] + char[3]) / 2
                if left <= x < right:
                    cell = (find(ys, y) - 1) * columns + find(xs, x) - 1
                    inside = shares.get(cell)
                    if inside is None:
                        shares[cell] = [char]
                    else:
                        inside.append(char)
            elif y != y:
                return []
        texts = [[""] * columns for _ in range(len(ys) - 1)]
        for cell, inside in shares.items():
            texts[cell // columns][cell % columns] = " ".join(word_texts(inside))
        return texts

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


def find_tables(surface: Surface, settings: dict[str, Any]) -> list[Any]:
    """pdfplumber's ``TableFinder(surface, settings).tables`` with :mod:`~.tableedges`' edges
    and :mod:`~.finder`'s intersections, cells and tables: a :class:`~.finder.Lattice` where the
    edges make one, else pdfplumber ``Table`` s."""
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
    lines = lattice_lines(finder.edges, x_tolerance, y_tolerance)
    if lines is not None:
        lattice = Lattice(*lines)
        return [lattice] if (len(lattice.xs) - 1) * (len(lattice.ys) - 1) > 1 else []
    finder.intersections = find_intersections(finder.edges, x_tolerance, y_tolerance)
    finder.cells = find_cells(finder.intersections)
    return [Table(surface, group) for group in group_cells(finder.cells)]  # type: ignore[arg-type]


def table_texts(surface: Surface, table: Any) -> list[tuple[list[Bbox | None], list[str]]]:
    """Each row of a table from :func:`find_tables`: its cells and their texts (:meth:`Surface.texts`)."""
    if isinstance(table, Lattice):
        rows = table.rows()
        texts = surface.lattice_texts(table.xs, table.ys) or [surface.texts(row) for row in rows]
        return list(zip(rows, texts, strict=True))
    return [(row.cells, surface.texts(row.cells)) for row in table.rows]
