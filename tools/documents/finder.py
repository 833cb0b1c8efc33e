"""pdfplumber's table finder steps after the edges, rewritten for speed with its exact results.

Contract: :func:`find_intersections` is ``edges_to_intersections`` (the same points with the same
edges in the same order), :func:`find_cells` is ``intersections_to_cells`` and :func:`group_cells`
is ``cells_to_tables``; :func:`lattice_tables` is the three together where the edges make a
lattice (:class:`Lattice` is that table, its rows included, built from its lines).
``tests/tools/documents/test_vectors.py`` compares each with pdfplumber's own on random grids and
the whole finder on every real page. Used by :mod:`~.grids`.
"""

from __future__ import annotations

import bisect
import math
from itertools import pairwise
from typing import Any

Bbox = tuple[float, float, float, float]
Point = tuple[float, float]
Intersections = dict[Point, dict[str, list[dict[str, Any]]]]


def find_intersections(edges: list[dict[str, Any]], x_tolerance: float, y_tolerance: float) -> Intersections:
    """pdfplumber's ``edges_to_intersections``, same points, same edges in the same order, with
    each vertical edge tested only against the horizontal ones whose top lies near its span
    (found by bisection, then tested with pdfplumber's own comparisons) instead of all of them."""
    from operator import itemgetter

    verticals = sorted((e for e in edges if e["orientation"] == "v"), key=itemgetter("x0", "top"))
    horizontals = sorted((e for e in edges if e["orientation"] == "h"), key=itemgetter("top", "x0"))
    tops = [h["top"] for h in horizontals]
    intersections: Intersections = {}
    for v in verticals:
        # One point of slack around the window: the test below decides, in pdfplumber's arithmetic.
        low = bisect.bisect_left(tops, v["top"] - y_tolerance - 1)
        high = bisect.bisect_right(tops, v["bottom"] + y_tolerance + 1)
        for h in horizontals[low:high]:
            if (
                (v["top"] <= (h["top"] + y_tolerance))
                and (v["bottom"] >= (h["top"] - y_tolerance))
                and (v["x0"] >= (h["x0"] - x_tolerance))
                and (v["x0"] <= (h["x1"] + x_tolerance))
            ):
                vertex = (v["x0"], h["top"])
                if vertex not in intersections:
                    intersections[vertex] = {"v": [], "h": []}
                intersections[vertex]["v"].append(v)
                intersections[vertex]["h"].append(h)
    return intersections


def find_cells(intersections: Intersections) -> list[Bbox]:
    """pdfplumber's ``intersections_to_cells``, same cells in the same order, with the points
    below and to the right of each one looked up by column and row instead of scanned: its scan
    is quadratic in the intersections, and a text-aligned table has hundreds."""
    points = sorted(intersections)
    by_x: dict[float, list[Point]] = {}
    by_y: dict[float, list[Point]] = {}
    place: dict[Point, tuple[int, int]] = {}  # the point's index in its column and in its row
    for point in points:  # sorted by x then y: each list keeps that order
        column, row = by_x.setdefault(point[0], []), by_y.setdefault(point[1], [])
        place[point] = (len(column), len(row))
        column.append(point)
        row.append(point)
    if _lattice(intersections):
        # Every pair of points in a column connects, and every pair in a row: the cell is the
        # nearest corner that exists (pdfplumber's tests below, each one answered true).
        cells: list[Bbox] = []
        for column in by_x.values():  # in the points' order: by x, then y
            for below_index, point in enumerate(column, start=1):
                rights = by_y[point[1]][place[point][1] + 1 :]
                if not rights:
                    continue  # no corner to the right: no cell
                found = False
                for _, below_y in column[below_index:]:
                    for right in rights:
                        if (right[0], below_y) in intersections:
                            cells.append((point[0], point[1], right[0], below_y))
                            found = True
                            break
                    if found:
                        break
        return cells
    return _linked_cells(intersections, points, by_x, by_y, place)


def _lattice(intersections: Intersections) -> bool:
    """Whether each point lies on one vertical edge, the same for its whole column, and on one
    horizontal edge, the same for its whole row (a text-aligned table's lines span it)."""
    columns: dict[float, int] = {}
    rows: dict[float, int] = {}
    for (x, y), edges in intersections.items():
        vertical, horizontal = edges["v"], edges["h"]
        if len(vertical) != 1 or len(horizontal) != 1:
            return False
        v, h = id(vertical[0]), id(horizontal[0])
        if columns.setdefault(x, v) != v or rows.setdefault(y, h) != h:
            return False
    return True


def _linked_cells(
    intersections: Intersections,
    points: list[Point],
    by_x: dict[float, list[Point]],
    by_y: dict[float, list[Point]],
    place: dict[Point, tuple[int, int]],
) -> list[Bbox]:
    """:func:`find_cells` where points of a column or row need not connect: each link tested."""
    # Each point's vertical and horizontal edges as numbers, one per box (pdfplumber compares the
    # boxes): two points of a column connect when their vertical sets meet, two of a row their
    # horizontal ones. An edge is numbered once, however many points it passes through.
    number_of: dict[int, int] = {}  # id of an edge -> the number of its box
    numbers: dict[tuple[float, float, float, float], int] = {}
    vertical: dict[Point, frozenset[int]] = {}
    horizontal: dict[Point, frozenset[int]] = {}
    for point, edges in intersections.items():
        for orientation, sets in (("v", vertical), ("h", horizontal)):
            found = []
            for edge in edges[orientation]:
                n = number_of.get(id(edge))
                if n is None:
                    box = (edge["x0"], edge["top"], edge["x1"], edge["bottom"])
                    n = number_of[id(edge)] = numbers.setdefault(box, len(numbers))
                found.append(n)
            sets[point] = frozenset(found)
    cells: list[Bbox] = []
    for point in points:
        down, across = vertical[point], horizontal[point]
        rights = by_y[point[1]][place[point][1] + 1 :]
        cell: Bbox | None = None
        for below_pt in by_x[point[0]][place[point][0] + 1 :]:
            if down.isdisjoint(vertical[below_pt]):
                continue
            below_across = horizontal[below_pt]
            for right_pt in rights:
                if across.isdisjoint(horizontal[right_pt]):
                    continue
                corner = (right_pt[0], below_pt[1])
                corner_down = vertical.get(corner)
                if (
                    corner_down is not None
                    and not corner_down.isdisjoint(vertical[right_pt])
                    and not horizontal[corner].isdisjoint(below_across)
                ):
                    cell = (point[0], point[1], corner[0], corner[1])
                    break
            if cell is not None:
                cells.append(cell)
                break
    return cells


def group_cells(cells: list[Bbox]) -> list[list[Bbox]]:
    """pdfplumber's ``cells_to_tables``, same tables with their cells in the same order: sweeps
    over the remaining cells, each adding those that share a corner with the table so far, until
    a sweep adds none; the remaining list is rebuilt per sweep instead of removed from."""
    remaining = list(cells)
    corners: set[Point] = set()
    current: list[Bbox] = []
    tables: list[list[Bbox]] = []
    while remaining:
        kept: list[Bbox] = []
        added = False
        for cell in remaining:
            x0, top, x1, bottom = cell
            cell_corners = ((x0, top), (x0, bottom), (x1, top), (x1, bottom))
            if not current or not corners.isdisjoint(cell_corners):
                corners.update(cell_corners)
                current.append(cell)
                added = True
            else:
                kept.append(cell)
        remaining = kept
        if not added:
            tables.append(current)
            corners, current = set(), []
    if current:
        tables.append(current)
    ordered = sorted(tables, key=lambda t: min((c[1], c[0]) for c in t))
    return [t for t in ordered if len(t) > 1]


def lattice_tables(
    edges: list[dict[str, Any]], x_tolerance: float, y_tolerance: float
) -> list[list[Bbox]] | None:
    """``cells_to_tables(intersections_to_cells(edges_to_intersections(edges, ...)))`` where the
    edges make a lattice (:func:`lattice_lines`); None where they do not: the caller runs the
    three steps."""
    lines = lattice_lines(edges, x_tolerance, y_tolerance)
    if lines is None:
        return None
    cells = Lattice(*lines).cells
    return [cells] if len(cells) > 1 else []


class Lattice:
    """The one table of a lattice: its column lines ``xs`` and row lines ``ys``, both sorted, and
    what pdfplumber's ``Table`` gives of it, built from them (no cell is missing)."""

    def __init__(self, xs: list[float], ys: list[float]) -> None:
        self.xs, self.ys = xs, ys

    @property
    def cells(self) -> list[Bbox]:
        """The cells in ``intersections_to_cells``' order: column by column, top to bottom."""
        xs, ys = self.xs, self.ys
        return [(left, upper, right, lower) for left, right in pairwise(xs) for upper, lower in pairwise(ys)]

    @property
    def bbox(self) -> Bbox:
        return (self.xs[0], self.ys[0], self.xs[-1], self.ys[-1])

    def rows(self) -> list[list[Bbox | None]]:
        """``Table.rows``' cells: every row holds a cell in every column, left to right."""
        columns = list(pairwise(self.xs))
        return [
            [(left, upper, right, lower) for left, right in columns] for upper, lower in pairwise(self.ys)
        ]


def lattice_lines(
    edges: list[dict[str, Any]], x_tolerance: float, y_tolerance: float
) -> tuple[list[float], list[float]] | None:
    """The column and row lines of the table the edges make where they make a lattice, as the
    text strategy's do: every vertical edge spans the same rows (same top and bottom) at its own
    x, every horizontal one the same columns at its own top. pdfplumber's test then depends on
    one side only (a vertical edge crosses every horizontal one whose top its span reaches, and
    the reverse), so the points are every kept x with every kept top, each cell joins a point to
    the next x and the next top, and the cells make one table (each shares a corner with the one
    above it or to its left). None where the edges are not such a lattice."""
    verticals = [e for e in edges if e["orientation"] == "v"]
    horizontals = [e for e in edges if e["orientation"] == "h"]
    if not verticals or not horizontals or len(verticals) + len(horizontals) != len(edges):
        return None
    top, bottom = verticals[0]["top"], verticals[0]["bottom"]
    x0, x1 = horizontals[0]["x0"], horizontals[0]["x1"]
    if any(v["top"] != top or v["bottom"] != bottom for v in verticals) or any(
        h["x0"] != x0 or h["x1"] != x1 for h in horizontals
    ):
        return None
    xs = sorted({v["x0"] for v in verticals})
    ys = sorted({h["top"] for h in horizontals})
    if len(xs) != len(verticals) or len(ys) != len(horizontals):
        return None  # two edges on one line: their points carry both
    if not math.isfinite(sum(xs) + sum(ys) + top + bottom + x0 + x1):
        return None
    # find_intersections' test, in its arithmetic, split by the side each term reads.
    xs = [x for x in xs if (x >= (x0 - x_tolerance)) and (x <= (x1 + x_tolerance))]
    ys = [y for y in ys if (top <= (y + y_tolerance)) and (bottom >= (y - y_tolerance))]
    return xs, ys
