"""Line items: exact per-line values on the generated set, table-cell provenance, and the lines of
the real invoice2data invoices (``price_subtotal`` per line; section headers and notes are not lines)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tools.documents.lines as lines_module
from tests.tools.documents.generator import LANGUAGES, LAYOUTS, generate, make_doc
from tools.documents import extract_document
from tools.documents.document import Document
from tools.documents.layout import Page, Word
from tools.documents.lines import ItemHit, find_lines, net_total, running_lines


def _line_values(line: dict[str, Any], layout: str) -> dict[str, Any]:
    if layout == "letter":  # a letter names the invoice, its date and the amount paid for it
        return {
            "invoice_number": line["invoice_number"],
            "invoice_date": line["invoice_date"],
            "amount": line["net_amount"],
        }
    return {k: line[k] for k in ("invoice_number", "invoice_date", "amount", "discount", "net_amount")}


@pytest.mark.slow
def test_every_generated_line_is_read_exactly() -> None:
    docs = generate(len(LAYOUTS) * len(LANGUAGES), seed=11)
    for doc in docs:
        [extraction] = extract_document(doc.pdf, f"{doc.name}.pdf")
        assert extraction.remittance is not None
        got = [line.model_dump() for line in extraction.remittance.lines]
        want = [_line_values(line, doc.layout) for line in doc.expected["lines"]]
        assert len(got) == len(want), doc.name
        for index, (actual, expected) in enumerate(zip(got, want, strict=True)):
            assert {k: actual[k] for k in expected} == expected, f"{doc.name} line {index}"


def test_ruled_table_lines_keep_the_cell_boxes() -> None:
    doc = make_doc("ruled_table", "de", 7)
    [extraction] = extract_document(doc.pdf, "ruled.pdf")
    boxes = {f.name: f.source.bbox for f in extraction.fields}
    for index in range(len(doc.expected["lines"])):
        net = boxes[f"remittance.lines[{index}].net_amount"]
        number = boxes[f"remittance.lines[{index}].invoice_number"]
        assert net is not None and number is not None
        # The generator rules the net column from x=430 to x=550 and the number column from 45 to 145:
        # the boxes are the cells, not just the printed figures.
        assert (net[0], net[2]) == pytest.approx((430, 550), abs=1)
        assert (number[0], number[2]) == pytest.approx((45, 145), abs=1)


def _expected_subtotals(path: Path) -> list[Decimal]:
    lines = json.loads(path.read_text())[0].get("lines", [])
    amounts = [line.get("price_subtotal", line.get("price")) for line in lines]
    return [Decimal(str(a)) for a in amounts if a is not None]  # headers and notes carry none


@pytest.mark.parametrize(
    ("name", "same_order"),
    # coolblue's JSON lists the home-copy levy last; the PDF prints it under the iPad it belongs to.
    [("AzureInterior", True), ("QualityHosting", True), ("saeco", True), ("coolblue1", False)],
)
def test_real_invoice_lines_match_the_expected_subtotals(
    shared_data: Path, name: str, same_order: bool
) -> None:
    folder = shared_data / "invoices" / "invoice2data"
    [extraction] = extract_document((folder / f"{name}.pdf").read_bytes(), f"{name}.pdf")
    assert extraction.remittance is not None
    got = [line.amount for line in extraction.remittance.lines]
    expected = _expected_subtotals(folder / f"{name}.json")
    if same_order:
        assert got == expected
    else:
        assert sorted(a or Decimal(0) for a in got) == sorted(expected) and None not in got


@pytest.mark.parametrize("name", ["AzureInterior", "QualityHosting", "saeco"])
def test_real_invoice_line_descriptions_name_the_product(shared_data: Path, name: str) -> None:
    folder = shared_data / "invoices" / "invoice2data"
    lines = json.loads((folder / f"{name}.json").read_text())[0]["lines"]
    expected = [ln.get("name") or ln["desc"] for ln in lines if "name" in ln or "desc" in ln]
    [extraction] = extract_document((folder / f"{name}.pdf").read_bytes(), f"{name}.pdf")
    assert extraction.remittance is not None
    got = [line.description or "" for line in extraction.remittance.lines]
    assert len(got) == len(expected)
    for description, line in zip(got, expected, strict=True):
        assert line.split("\n")[0] in description


def _page(number: int, rows: Sequence[tuple[float, Sequence[tuple[float, str]]]]) -> Page:
    """A text page from (top, [(x0, cell text), ...]) rows: a cell's words 5 points a letter, 3 apart."""
    words = []
    for top, cells in rows:
        for x0, text in cells:
            x = x0
            for piece in text.split():
                words.append(Word(piece, x, top, x + 5 * len(piece), top + 10, number))
                x += 5 * len(piece) + 3
    return Page(number, 595, 842, "pt", "text", words)


_HEADER = [(40, "Description"), (400, "Amount")]


def test_a_running_footer_is_not_a_line_and_ends_the_table_on_its_page() -> None:
    footer = [(40, "Example GmbH Registergericht HRB"), (400, "13302")]
    first = _page(1, [(100, _HEADER), (114, [(40, "Widget A"), (400, "10.00")]), (128, footer)])
    second = _page(
        2,
        [
            (100, _HEADER),
            (114, [(40, "Widget B"), (400, "20.00")]),
            (128, footer),  # the same line at the same height: the page's furniture
            (160, [(300, "Total"), (400, "30.00")]),
        ],
    )
    doc = Document([first, second], "two-pages.pdf")
    running = running_lines(doc)
    # The repeated header is furniture too; a header line still starts the table on each page.
    assert sorted({line.text for line in doc.lines if id(line) in running}) == [
        "Description Amount",
        "Example GmbH Registergericht HRB 13302",
    ]
    assert sum(id(line) in running for line in doc.lines) == 4
    items = find_lines(doc, "invoice", Decimal("30.00"))
    assert [(i.values["description"].text, i.values["amount"].text) for i in items] == [
        ("Widget A", "10.00"),
        ("Widget B", "20.00"),
    ]
    # One page alone has no furniture to tell apart: the same line is read as a row there.
    assert running_lines(Document([first], "one-page.pdf")) == set()


def test_lines_summing_to_the_net_total_are_reconciled_without_the_text_aligned_grid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        (100, _HEADER),
        (114, [(40, "Widget A"), (400, "10.00")]),
        (128, [(300, "Subtotal"), (400, "10.00")]),  # a section's subtotal
        (142, [(40, "Widget B"), (400, "20.00")]),
        (156, [(300, "Subtotal"), (400, "20.00")]),
        (184, [(300, "Subtotal"), (400, "30.00")]),
        (198, [(300, "VAT 19%"), (400, "5.70")]),
        (212, [(300, "Total"), (400, "35.70")]),
    ]
    doc = Document([_page(1, rows)], "net.pdf")
    assert net_total(doc, Decimal("35.70")) == Decimal("30.00")
    assert net_total(doc, Decimal("25.00")) == Decimal("20.00")  # never above the total
    read: list[str] = []
    original = lines_module.grid_items

    def spy(document: Document, strategy: str) -> list[ItemHit]:
        read.append(strategy)
        return original(document, strategy)  # type: ignore[arg-type]

    monkeypatch.setattr(lines_module, "grid_items", spy)
    items = find_lines(doc, "invoice", Decimal("35.70"))
    assert [i.values["amount"].text for i in items] == ["10.00", "20.00"]
    assert read == ["lines"]  # reconciled: the text-aligned grid could not win, so it is not read
    read.clear()
    find_lines(doc, "invoice", Decimal("25.00"))  # targets 25.00 and 20.00: the lines sum to neither
    assert read == ["lines", "text"]
