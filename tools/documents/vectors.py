"""A page's ruling lines read from PDFium's path objects, as the edges pdfplumber's table finder uses.

pdfplumber gets a page's lines, rectangles and curves from pdfminer, which interprets the whole
content stream in Python (tens to hundreds of milliseconds a page). PDFium has already parsed the
page into path objects; walking their segments gives the same shapes in a millisecond or two.
Each painted subpath becomes what pdfminer would make of it (``pdfminer.converter.paint_path``):
one segment a line, a closed axis-aligned four-sided path a rectangle (four edges), anything else
a curve (an edge between each pair of consecutive points). Coordinates are PDF points with a
top-left origin, like the text layer's (:mod:`~.textlayer`). All calls hold :mod:`~.pdfium`'s lock.
"""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Iterator
from typing import Any

Point = tuple[float, float]
Matrix = tuple[float, float, float, float, float, float]
Edge = dict[str, Any]

_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_MAX_DEPTH = 15  # form XObjects nested deeper than this are not walked (pypdfium2's default too)


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    """``inner`` then ``outer`` (PDF row-vector convention: p * inner * outer)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


class _Reader:
    """The PDFium calls a path's segments are read with, and the two floats they write to: made
    once per page rather than per path (a ruled table has hundreds of paths)."""

    def __init__(self) -> None:
        import pypdfium2.raw as raw

        from tools.documents.pdfium import unchecked

        self.x, self.y = ctypes.c_float(), ctypes.c_float()
        self.x_ref, self.y_ref = ctypes.byref(self.x), ctypes.byref(self.y)
        self.count = unchecked("FPDFPath_CountSegments")
        self.get_segment, self.get_point = (
            unchecked("FPDFPath_GetPathSegment"),
            unchecked("FPDFPathSegment_GetPoint"),
        )
        self.get_type, self.get_close = (
            unchecked("FPDFPathSegment_GetType"),
            unchecked("FPDFPathSegment_GetClose"),
        )
        self.moveto, self.bezierto = raw.FPDF_SEGMENT_MOVETO, raw.FPDF_SEGMENT_BEZIERTO
        self.own, self.get_matrix = raw.FS_MATRIX(), unchecked("FPDFPageObj_GetMatrix")
        self.own_ref = ctypes.byref(self.own)

    def matrix(self, obj: Any, outer: Matrix) -> Matrix:
        """:func:`object_matrix`, read into the reader's one matrix."""
        m = self.own
        if not self.get_matrix(obj, self.own_ref):
            return outer
        return _compose((m.a, m.b, m.c, m.d, m.e, m.f), outer)


def _subpaths(
    path: Any, matrix: Matrix, reader: _Reader | None = None, origin: Point | None = None
) -> list[tuple[str, list[Point]]]:
    """The path's subpaths as pdfminer sees them: operator letters (``m``, ``l``, ``c``, ``h``) and
    each operator's end point in page space (``h`` closes back to the subpath's start); with
    ``origin`` (the page's left and top edges), in top-left space (x - left, top - y)."""
    r = reader or _Reader()
    flip = origin is not None
    left, top_edge = origin if origin is not None else (0.0, 0.0)
    x, y, x_ref, y_ref = r.x, r.y, r.x_ref, r.y_ref
    get_segment, get_point, get_type, get_close = r.get_segment, r.get_point, r.get_type, r.get_close
    moveto, bezierto = r.moveto, r.bezierto
    a, b, c, d, e, f = matrix
    subpaths: list[tuple[str, list[Point]]] = []
    ops: list[str] = []
    points: list[Point] = []
    pending_curve = 0
    for i in range(r.count(path)):
        segment = get_segment(path, i)
        if not segment or not get_point(segment, x_ref, y_ref):
            continue
        kind = get_type(segment)
        px, py = x.value, y.value
        if flip:  # the page-space point's own sums, then moved: the same floats
            point = (a * px + c * py + e - left, top_edge - (b * px + d * py + f))
        else:
            point = (a * px + c * py + e, b * px + d * py + f)
        if kind == moveto:
            if ops:
                subpaths.append(("".join(ops), points))
            ops, points, pending_curve = ["m"], [point], 0
        elif kind == bezierto:
            # PDFium stores a Bézier as three segments (two control points, the end point); pdfminer
            # keeps one operator with the end point.
            pending_curve += 1
            if pending_curve == 3:
                ops.append("c")
                points.append(point)
                pending_curve = 0
        else:
            ops.append("l")
            points.append(point)
        if ops and get_close(segment):
            ops.append("h")
            points.append(points[0])
    if ops:
        subpaths.append(("".join(ops), points))
    return subpaths


def _edge(kind: str, p0: Point, p1: Point, orientation: str | None) -> Edge:
    return _edge_xy(kind, p0[0], p0[1], p1[0], p1[1], orientation)


def _edge_xy(kind: str, ax: float, ay: float, bx: float, by: float, orientation: str | None) -> Edge:
    """:func:`_edge` of the points (ax, ay) and (bx, by), given as numbers (no tuples to build)."""
    x0, x1 = min(ax, bx), max(ax, bx)
    top, bottom = min(ay, by), max(ay, by)
    return {
        "object_type": kind,
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": orientation,
    }


def shape_edges(shape: str, points: list[Point]) -> list[Edge]:
    """The edges pdfplumber derives from one painted subpath (points already in top-left space)."""
    if not shape.startswith("m") or len(points) < 2:
        return []
    if len(shape) > 3 and shape.endswith("lh") and points[-2] == points[0]:
        shape, points = shape[:-2] + "h", points[:-2] + points[-1:]  # a redundant "l" before "h"
    if shape in {"ml", "mlh"}:
        p0, p1 = points[0], points[1]
        return [_edge("line", p0, p1, "h" if p0[1] == p1[1] else "v")]
    if shape in {"mlllh", "mllll"}:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = points
        square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (
            y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0
        )
        if points[0] == points[4] and square:
            left, right = min(x0, x2), max(x0, x2)
            top, bottom = min(y0, y2), max(y0, y2)
            return [
                _edge_xy("rect_edge", left, top, right, top, "h"),
                _edge_xy("rect_edge", left, bottom, right, bottom, "h"),
                _edge_xy("rect_edge", left, top, left, bottom, "v"),
                _edge_xy("rect_edge", right, top, right, bottom, "v"),
            ]
    edges = []
    for p0, p1 in itertools.pairwise(points):
        orientation = "v" if p0[0] == p1[0] else ("h" if p0[1] == p1[1] else None)
        edges.append(_edge("curve_edge", p0, p1, orientation))
    return edges


def object_matrix(obj: Any, outer: Matrix) -> Matrix:
    """The matrix that maps ``obj``'s space to the page: its own composed with ``outer`` (the
    forms' it sits in). Call with :mod:`~.pdfium`'s lock held."""
    import pypdfium2.raw as raw

    from tools.documents.pdfium import unchecked

    m = raw.FS_MATRIX()
    if not unchecked("FPDFPageObj_GetMatrix")(obj, ctypes.byref(m)):
        return outer
    return _compose((m.a, m.b, m.c, m.d, m.e, m.f), outer)


def walk_objects(
    page: Any, kinds: set[int], *, compose: bool = True, cut: list[Any] | None = None
) -> Iterator[tuple[Any, int, Matrix]]:
    """``(object, type, matrix)`` for each object of a type in ``kinds`` on a loaded page, form
    XObjects walked in document order; ``matrix`` maps the object's space to the page (the forms'
    matrices composed with the object's own). With ``compose`` false it is the forms' matrix
    only, for callers that need few of the objects' own (:func:`object_matrix`). ``kinds`` is read
    at each object: a caller may drop a type it no longer needs while walking. ``cut``, when given,
    receives each form nested too deep to be walked. Call with :mod:`~.pdfium`'s lock held."""
    import pypdfium2.raw as raw

    from tools.documents.pdfium import unchecked

    get_type = unchecked("FPDFPageObj_GetType")
    form = raw.FPDF_PAGEOBJ_FORM  # looked up once: the loop below runs for every object

    def walk(parent: Any, is_form: bool, outer: Matrix, depth: int) -> Iterator[tuple[Any, int, Matrix]]:
        count = raw.FPDFFormObj_CountObjects(parent) if is_form else raw.FPDFPage_CountObjects(parent)
        get_object = unchecked("FPDFFormObj_GetObject" if is_form else "FPDFPage_GetObject")
        for i in range(max(0, count)):
            obj = get_object(parent, i)
            if not obj:
                continue
            kind = get_type(obj)
            if kind in kinds:
                yield obj, kind, object_matrix(obj, outer) if compose else outer
            if kind == form:
                if depth + 1 < _MAX_DEPTH:
                    yield from walk(obj, True, object_matrix(obj, outer), depth + 1)
                elif cut is not None:
                    cut.append(obj)

    yield from walk(page.raw, False, _IDENTITY, 0)


def page_edges(page: Any, paths: list[tuple[Any, Matrix]] | None = None) -> list[Edge]:
    """Every edge of every painted path on a loaded page (:class:`~.pdfium.OpenPage`), form
    XObjects included. ``paths``: the page's path objects with their forms' matrices, when a walk
    over the page's objects has already found them (:func:`~.textlayer.read_layer`)."""
    import pypdfium2.raw as raw

    from tools.documents.pdfium import _LOCK, page_origin, unchecked

    edges: list[Edge] = []
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    fill_ref, stroke_ref = ctypes.byref(fill), ctypes.byref(stroke)
    reader = _Reader()
    draw_mode = unchecked("FPDFPath_GetDrawMode")
    unfilled = raw.FPDF_FILLMODE_NONE
    with _LOCK:
        left, top_edge = page_origin(page)
        if paths is None:
            paths = [
                (obj, outer) for obj, _, outer in walk_objects(page, {raw.FPDF_PAGEOBJ_PATH}, compose=False)
            ]
        for obj, outer in paths:
            if not draw_mode(obj, fill_ref, stroke_ref):
                continue
            if fill.value == unfilled and not stroke.value:
                continue  # not painted (a clipping path): pdfminer never sees it
            for shape, points in _subpaths(obj, reader.matrix(obj, outer), reader, (left, top_edge)):
                edges += shape_edges(shape, points)
    return edges


def paths_reach(page: Any, paths: list[tuple[Any, Matrix]], heights: list[float], margin: float) -> bool:
    """Whether a path object (with its forms' matrix) comes within ``margin`` of one of ``heights``
    (top-left origin): its bounding box, which holds every point of the path and so every edge
    :func:`page_edges` makes of it. True for a box PDFium does not give or that is not finite.
    Stops at the first path that does: a page with a ruled table finds one at once."""
    import math

    from tools.documents.pdfium import _LOCK, page_origin, unchecked

    bounds = unchecked("FPDFPageObj_GetBounds")
    values = [ctypes.c_float() for _ in range(4)]
    refs = [ctypes.byref(v) for v in values]
    with _LOCK:
        _, top_edge = page_origin(page)
        for obj, outer in paths:
            if not bounds(obj, *refs):
                return True
            left, bottom, right, top = (v.value for v in values)
            b, d, f = outer[1], outer[3], outer[5]  # the box is in its form's space
            ys = [b * x + d * y + f for x in (left, right) for y in (bottom, top)]
            low, high = top_edge - max(ys), top_edge - min(ys)
            if not math.isfinite(low + high):
                return True
            if any(low - margin <= h <= high + margin for h in heights):
                return True
    return False
