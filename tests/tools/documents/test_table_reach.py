"""Ruled tables are looked for only where a painted path lies near a header line: the pages'
tables equal those found without that test, on every real page and on generated layouts."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tools.documents.grids import read_grids
from tools.documents.pdf import read_pdf
from tools.documents.pdfium import OpenPage, close_document, open_document
from tools.documents.textlayer import read_layer
from tools.documents.vectors import page_edges, paths_reach


def _counted(
    reach: Callable[[list[float], float], bool], calls: list[bool], heights: list[float], margin: float
) -> bool:
    calls.append(reach(heights, margin))
    return calls[-1]


def _both_ways(data: bytes, name: str) -> tuple[int, int]:
    """(pages compared, pages whose edges the test let go unread); asserts the tables agree."""
    compared = skipped = 0
    document = open_document(data)
    try:
        for page in read_pdf(data, name):
            if not page.chars:
                continue
            with OpenPage(document, page.number - 1) as loaded:
                layer = read_layer(loaded.get())
                edges = partial(page_edges, loaded.get(), layer.paths)
                calls: list[bool] = []
                counted = partial(_counted, partial(paths_reach, loaded.get(), layer.paths), calls)
                assert read_grids(page, layer.chars, edges, counted) == read_grids(page, layer.chars, edges)
                assert page.tables == read_grids(page, layer.chars, edges)
                compared += 1
                skipped += calls == [False]
    finally:
        close_document(document)
    return compared, skipped


def test_tables_equal_those_found_without_the_reach_test(shared_data: Path) -> None:
    from evals.generators.remittance import generate

    compared = skipped = 0
    for path in sorted((shared_data / "invoices").glob("*/*.pdf")):
        pages, unread = _both_ways(path.read_bytes(), path.name)
        compared, skipped = compared + pages, skipped + unread
    for doc in generate(30, seed=5):
        pages, unread = _both_ways(doc.pdf, doc.name)
        compared, skipped = compared + pages, skipped + unread
    assert compared > 40 and skipped > 0


def _edge_and_reach(pdf: bytes, heights: tuple[float, ...]) -> tuple[float, list[float]]:
    """The page's one edge's top, and which of ``heights`` its path reaches within 5 points."""
    document = open_document(pdf)
    try:
        with OpenPage(document, 0) as loaded:
            paths = read_layer(loaded.get()).paths
            [edge] = page_edges(loaded.get(), paths)
            near = [h for h in heights if paths_reach(loaded.get(), paths, [h], 5.0)]
            return round(edge["top"], 2), near
    finally:
        close_document(document)


def test_a_path_in_a_turned_form_is_measured_on_the_page() -> None:
    """A path's box is in its form's space: moved onto the page by the form's matrix."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)  # A4: 841.89 points high
    pdf.beginForm("rule")
    pdf.line(10, 10, 10, 60)
    pdf.endForm()
    pdf.saveState()
    pdf.translate(100, 300)
    pdf.rotate(90)  # the vertical rule becomes horizontal, at 310 points from the bottom
    pdf.doForm("rule")
    pdf.restoreState()
    pdf.showPage()
    pdf.save()
    top, near = _edge_and_reach(buffer.getvalue(), (500.0, 525.0, 532.0, 537.0, 539.0, 560.0))
    assert top == 531.89
    assert near == [532.0, 537.0]  # the box: 530.89 to 532.89 (the line's width), 5 more


def test_a_path_drawn_turned_on_the_page_is_measured_with_its_own_matrix() -> None:
    """A path's own matrix (the drawing's turn and shift) is in its box as PDFium gives it."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)  # A4: 841.89 points high
    pdf.saveState()
    pdf.translate(100, 300)
    pdf.rotate(90)
    pdf.line(0, 0, 0, 60)  # becomes horizontal, 300 points from the bottom
    pdf.restoreState()
    pdf.showPage()
    pdf.save()
    top, near = _edge_and_reach(buffer.getvalue(), (500.0, 530.0, 542.0, 546.0, 548.0, 600.0))
    assert top == 541.89
    assert near == [542.0, 546.0]  # the box: 540.89 to 542.89 (the line's width), 5 more


def _ruled_invoice(gap_around: float | None) -> bytes:
    """A one-row ruled table under a tall header cell; with ``gap_around`` (a height, top-left
    origin), each vertical rule is drawn as two strokes leaving a 2.8-point gap centred there."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)  # A4: 841.89 points high
    pdf.setLineWidth(0.2)
    pdf.drawString(60, 717, "Description")
    pdf.drawString(420, 717, "Amount")
    pdf.drawString(60, 677, "Widget")
    pdf.drawString(420, 677, "10.00")
    pdf.drawString(60, 600, "Total 10.00")
    for y in (740, 700, 660):
        pdf.line(50, y, 500, y)
    for x in (50, 300, 500):
        if gap_around is None:
            pdf.line(x, 740, x, 660)
        else:
            centre = 841.89 - gap_around
            pdf.line(x, 740, x, centre + 1.4)
            pdf.line(x, centre - 1.4, x, 660)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_a_rule_joined_across_the_header_is_in_reach() -> None:
    """Vertical rules joined across a gap at the header's height make the header's cell: the
    nearest painted point is 1.4 points (plus the stroke) from the header's centre, inside the
    reach the finder's tolerances allow and outside a tighter one; the table is still found."""
    from tools.documents.document import is_table_header
    from tools.documents.grids import _REACH

    [plain] = read_pdf(_ruled_invoice(None), "plain.pdf")
    [header] = [line for line in plain.lines if is_table_header(line)]
    centre = (header.top + header.bottom) / 2
    data = _ruled_invoice(centre)
    [page] = read_pdf(data, "gap.pdf")
    document = open_document(data)
    try:
        with OpenPage(document, 0) as loaded:
            layer = read_layer(loaded.get())
            edges = partial(page_edges, loaded.get(), layer.paths)
            reach = partial(paths_reach, loaded.get(), layer.paths)
            without = read_grids(page, layer.chars, edges)
            assert without and without[0].bbox[1] < centre < without[0].bbox[3]
            assert page.tables == without == read_grids(page, layer.chars, edges, reach)
            assert reach([centre], _REACH) and not reach([centre], 1.0)
    finally:
        close_document(document)
