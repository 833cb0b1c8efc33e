"""Line items: exact per-line values on the generated set, table-cell provenance, and the lines of
the real invoice2data invoices (``price_subtotal`` per line; section headers and notes are not lines)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.tools.documents.generator import LANGUAGES, LAYOUTS, generate, make_doc
from tools.documents import extract_document


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


@pytest.mark.parametrize("name", ["AzureInterior", "saeco"])
def test_real_invoice_line_descriptions_name_the_product(shared_data: Path, name: str) -> None:
    folder = shared_data / "invoices" / "invoice2data"
    expected = [ln for ln in json.loads((folder / f"{name}.json").read_text())[0]["lines"] if "name" in ln]
    [extraction] = extract_document((folder / f"{name}.pdf").read_bytes(), f"{name}.pdf")
    assert extraction.remittance is not None
    got = [line.description or "" for line in extraction.remittance.lines]
    assert len(got) == len(expected)
    for description, line in zip(got, expected, strict=True):
        assert line["name"].split("\n")[0] in description
