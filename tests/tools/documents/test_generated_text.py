"""Field accuracy on generated text-layer remittance advices: six layouts x five languages."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.tools.documents.generator import LANGUAGES, LAYOUTS, generate
from tests.tools.documents.scoring import accuracy, per_field, score
from tools.documents import extract_document


@pytest.mark.slow
def test_text_pdf_field_accuracy_at_least_98_percent() -> None:
    docs = generate(60, seed=7)
    assert {d.layout for d in docs} == set(LAYOUTS) and {d.language for d in docs} == set(LANGUAGES)
    assert any(d.pages > 1 for d in docs)
    totals: Counter[str] = Counter()
    for doc in docs:
        [extraction] = extract_document(doc.pdf, f"{doc.name}.pdf")
        assert extraction.doc_type == "remittance_advice", doc.name
        totals += score(extraction, doc.expected, doc.layout)
    assert accuracy(totals) >= 0.98, per_field(totals)


def test_fields_carry_page_box_and_confidence() -> None:
    doc = generate(1, seed=3)[0]  # ruled table, English
    [extraction] = extract_document(doc.pdf, "advice.pdf")
    by_name = {f.name: f for f in extraction.fields}
    total = by_name["remittance.total_amount"]
    assert total.value == str(doc.expected["total_amount"])
    assert total.source.page == 1 and total.source.bbox is not None
    x0, top, x1, bottom = total.source.bbox
    assert 0 <= x0 < x1 <= 595 and 0 <= top < bottom <= 842
    assert 0 < total.confidence <= 1
    # Lines sum to the total, so no mismatch finding and the total is confirmed.
    assert not [f for f in extraction.findings if f.code == "LINES_TOTAL_MISMATCH"]
    assert extraction.remittance is not None and len(extraction.remittance.lines) == len(
        doc.expected["lines"]
    )
