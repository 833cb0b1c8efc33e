"""pdfplumber's table-finder edges (``TableFinder.get_edges``), rewritten for speed with its exact results.

Contract: :func:`table_edges` returns what ``TableFinder(surface, settings).get_edges()`` returns for
the ``lines`` and ``text`` strategies without explicit lines: the same edges (equal dicts, same
values to the last bit, same order), one object per edge as pdfplumber makes them. The steps are
pdfplumber's own (``words_to_edges_v``/``_h``, ``snap_edges``, ``join_edge_group``,
``filter_edges``) with its clusters found by one pass over the sorted values and the words read
as tuples instead of dicts: its clustering sorts (object, cluster) pairs and rebuilds every moved
edge from its items, most of the finder's time on a text-aligned table. Each float is computed by
pdfplumber's expression, in its order. ``tests/tools/documents/test_tableedges.py`` compares them
on random edges and words and on every real page. Used by :mod:`~.grids`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Edge = dict[str, Any]
WordBox = tuple[str, float, float, float, float]  # text, x0, top, x1, bottom
T = TypeVar("T")


def _clusters(values: Sequence[float], tolerance: float) -> dict[float, int]:
    """pdfplumber's ``make_cluster_dict``: each distinct value's cluster index, values within
    ``tolerance`` of the previous one (sorted) sharing its cluster."""
    ordered = sorted(set(values))
    if not ordered:
        return {}
    index = {ordered[0]: 0}
    cluster, last = 0, ordered[0]
    chained = tolerance != 0
    for value in ordered[1:]:  # distinct, ascending
        if not (chained and value <= last + tolerance):
            cluster += 1
        index[value] = cluster
        last = value
    return index


def _group(items: Sequence[T], keys: Sequence[float], tolerance: float) -> list[list[T]]:
    """pdfplumber's ``cluster_objects``: the items by cluster of their key, in cluster order, each
    cluster keeping the items' order (its sort by cluster index is stable)."""
    index = _clusters(keys, tolerance)
    groups: list[list[T]] = [[] for _ in range(len(set(index.values())))]
    for item, key in zip(items, keys, strict=True):
        groups[index[key]].append(item)
    return groups


def _snap(edges: list[Edge], attr: str, tolerance: float) -> list[Edge]:
    """pdfplumber's ``snap_objects`` (``x0`` for vertical edges, ``top`` for horizontal ones):
    each cluster moved to its mean, the moved dicts built as ``move_object`` builds them."""
    snapped: list[Edge] = []
    for cluster in _group(edges, [e[attr] for e in edges], tolerance):
        avg = sum(e[attr] for e in cluster) / len(cluster)
        for e in cluster:
            value = avg - e[attr]
            if attr == "x0":
                snapped.append({**e, "x0": e["x0"] + value, "x1": e["x1"] + value})
                continue
            moved = {**e, "top": e["top"] + value, "bottom": e["bottom"] + value}
            if "doctop" in e:
                moved["doctop"] = e["doctop"] + value
            if "y0" in e:
                moved["y0"] = e["y0"] - value
                moved["y1"] = e["y1"] - value
            snapped.append(moved)
    return snapped


def _join(group: list[Edge], low: str, high: str, tolerance: float) -> list[Edge]:
    """pdfplumber's ``join_edge_group``: edges along one line joined where they meet or nearly."""
    ordered = sorted(group, key=lambda e: e[low])
    joined = [ordered[0]]
    for e in ordered[1:]:
        last = joined[-1]
        if e[low] <= last[high] + tolerance:
            if e[high] > last[high]:
                value = e[high]
                if high == "x1":  # resize_object
                    joined[-1] = {**last, "x1": value, "width": value - last["x0"]}
                else:
                    diff = value - last["bottom"]
                    resized = {**last, "bottom": value, "height": last["height"] + diff}
                    if "y0" in last:
                        resized["y0"] = last["y0"] - diff
                    joined[-1] = resized
        else:
            joined.append(e)
    return joined


def merge_edges(edges: list[Edge], snap_x: float, snap_y: float, join_x: float, join_y: float) -> list[Edge]:
    """pdfplumber's ``merge_edges``: edges snapped to their clusters' means, then joined along each
    line; horizontal lines first (by top), then vertical ones (by x0)."""
    verticals = [e for e in edges if e["orientation"] == "v"]  # the finder's edges are all one
    horizontals = [e for e in edges if e["orientation"] == "h"]  # or the other
    if snap_x > 0 or snap_y > 0:
        verticals, horizontals = _snap(verticals, "x0", snap_x), _snap(horizontals, "top", snap_y)
    merged: list[Edge] = []
    for lines, attr, low, high, tolerance in (
        (horizontals, "top", "x0", "x1", join_x),
        (verticals, "x0", "top", "bottom", join_y),
    ):
        start = None
        for e in sorted(lines, key=lambda e: e[attr]):
            if start is None or e[attr] != start[0][attr]:
                if start:
                    merged += _join(start, low, high, tolerance)
                start = [e]
            else:
                start.append(e)
        if start:
            merged += _join(start, low, high, tolerance)
    return merged


def _box(words: Sequence[WordBox]) -> tuple[float, float, float, float]:
    """pdfplumber's ``objects_to_bbox``."""
    _, x0, top, x1, bottom = zip(*words, strict=True)
    return (min(x0), min(top), max(x1), max(bottom))


def words_to_edges_h(words: list[WordBox], threshold: int) -> list[Edge]:
    """pdfplumber's ``words_to_edges_h``: a top and a bottom line for each row of words."""
    rows = [r for r in _group(words, [w[2] for w in words], 1) if len(r) >= threshold]
    rects = [_box(r) for r in rows]
    if not rects:
        return []
    min_x0 = min(r[0] for r in rects)
    max_x1 = max(r[2] for r in rects)
    edges: list[Edge] = []
    for _, top, _, bottom in rects:
        for y in (top, bottom):
            edges.append(
                {
                    "x0": min_x0,
                    "x1": max_x1,
                    "top": y,
                    "bottom": y,
                    "width": max_x1 - min_x0,
                    "orientation": "h",
                }
            )
    return edges


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """pdfplumber's ``get_bbox_overlap`` is not None."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return height >= 0 and width >= 0 and height + width > 0


def words_to_edges_v(words: list[WordBox], threshold: int) -> list[Edge]:
    """pdfplumber's ``words_to_edges_v``: a line at each left edge, right edge or centre shared by
    ``threshold`` words, the widest clusters first, none overlapping one taken before."""
    clusters = (
        _group(words, [w[1] for w in words], 1)
        + _group(words, [w[3] for w in words], 1)
        + _group(words, [float(w[1] + w[3]) / 2 for w in words], 1)
    )
    condensed: list[tuple[float, float, float, float]] = []
    for cluster in sorted(clusters, key=lambda c: -len(c)):
        if len(cluster) < threshold:
            continue
        box = _box(cluster)
        if not any(_overlaps(box, c) for c in condensed):
            condensed.append(box)
    if not condensed:
        return []
    rects = sorted(condensed, key=lambda b: b[0])
    max_x1 = max(r[2] for r in rects)
    min_top = min(r[1] for r in rects)
    max_bottom = max(r[3] for r in rects)
    lefts = [r[0] for r in rects] + [max_x1]
    return [
        {
            "x0": x,
            "x1": x,
            "top": min_top,
            "bottom": max_bottom,
            "height": max_bottom - min_top,
            "orientation": "v",
        }
        for x in lefts
    ]


def _long(edges: list[Edge], orientation: str | None, min_length: float) -> list[Edge]:
    """pdfplumber's ``filter_edges`` without an edge type."""
    return [
        e
        for e in edges
        if (orientation is None or e["orientation"] == orientation)
        and e["height" if e["orientation"] == "v" else "width"] >= min_length
    ]


def table_edges(
    settings: Any, page_edges: list[Edge], words: Callable[[], list[WordBox]]
) -> list[Edge] | None:
    """``TableFinder.get_edges`` for resolved ``settings`` of the ``lines`` or ``text`` strategy
    (no explicit lines); ``words`` gives the page's word boxes, called only for ``text``. None
    where a coordinate is not a finite number (NaN orders and groups by identity in pdfplumber's
    tuple keys): the caller then asks pdfplumber."""
    strategies = (settings.vertical_strategy, settings.horizontal_strategy)
    if not set(strategies) <= {"lines", "text"}:
        raise ValueError(f"unsupported strategies {strategies}")
    if settings.explicit_vertical_lines or settings.explicit_horizontal_lines:
        raise ValueError("explicit lines are not supported")
    boxes = words() if "text" in strategies else []
    if not math.isfinite(sum(w[1] + w[2] + w[3] + w[4] for w in boxes)):
        return None
    if "lines" in strategies and not math.isfinite(
        sum(e["x0"] + e["top"] + e["x1"] + e["bottom"] for e in page_edges)
    ):
        return None
    if settings.vertical_strategy == "lines":
        v = _long(page_edges, "v", settings.edge_min_length_prefilter)
    else:
        v = words_to_edges_v(boxes, settings.min_words_vertical)
    if settings.horizontal_strategy == "lines":
        h = _long(page_edges, "h", settings.edge_min_length_prefilter)
    else:
        h = words_to_edges_h(boxes, settings.min_words_horizontal)
    edges = merge_edges(
        v + h,
        settings.snap_x_tolerance,
        settings.snap_y_tolerance,
        settings.join_x_tolerance,
        settings.join_y_tolerance,
    )
    return _long(edges, None, settings.edge_min_length)
