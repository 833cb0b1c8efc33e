"""The evaluation's view of the remittance generator: specs, rows, and paths that resolve."""

from __future__ import annotations

import pytest

from evals.generators.remittance import dataset_rows, render_spec
from evals.suites.extraction import resolve_path, same_value
from tools.documents import extract_document


def test_render_spec_is_deterministic_and_typed() -> None:
    data, source = render_spec("text:ruled:de:7")
    assert data.startswith(b"%PDF") and source.endswith(".pdf")
    assert render_spec("text:ruled:de:7")[0] == data
    assert render_spec("text:ruled:de:8")[0] != data
    scan, scan_source = render_spec("scan:letter:fr:7")
    assert scan[:3] == b"\xff\xd8\xff" and scan_source.endswith(".jpg")  # a one-page scan is a JPEG
    multi, multi_source = render_spec("scan:multipage:en:7")
    assert multi.startswith(b"%PDF") and multi_source.endswith(".pdf")


@pytest.mark.parametrize(
    "spec", ["text:ruled:de", "pdf:ruled:de:7", "text:wavy:de:7", "text:ruled:xx:7", "text:ruled:de:x"]
)
def test_bad_specs_name_the_problem(spec: str) -> None:
    with pytest.raises(ValueError, match=r"spec|layout|language"):
        render_spec(spec)


def test_dataset_rows_shape() -> None:
    rows = dataset_rows(count=12, seed=7, scans=3)
    assert len(rows) == 15 and len({row["id"] for row in rows}) == 15
    assert [row["input"].split(":")[1] for row in rows[-3:]] == ["scan"] * 3
    for row in rows:
        assert row["id"] == "generated/" + row["input"].removeprefix("generated:")
        assert row["doc_type"] == "remittance_advice"
        assert {
            "remittance.total_amount",
            "remittance.payment_date",
            "remittance.lines[0].invoice_number",
        } <= set(row["expected"])


def test_expected_paths_resolve_on_the_extraction() -> None:
    for row in dataset_rows(count=6, seed=7, scans=0):  # one document of each layout
        data, source = render_spec(row["input"].removeprefix("generated:"))
        document = extract_document(data, source)[0].to_json_dict()
        wrong = [k for k, v in row["expected"].items() if not same_value(v, resolve_path(document, k))]
        assert wrong == [], row["id"]
