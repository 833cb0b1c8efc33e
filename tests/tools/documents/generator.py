"""The test-facing generator of remittance advices (six layouts, five languages, text PDFs and scans).

The implementation lives in :mod:`evals.generators.remittance` so the offline evaluation renders the
same documents; the tests import it from here.
"""

from __future__ import annotations

from evals.generators.remittance import (
    LANGUAGES,
    LAYOUTS,
    GeneratedDoc,
    dataset_rows,
    expected_fields,
    fmt_amount,
    fmt_date,
    generate,
    make_doc,
    render,
    render_spec,
    to_scan,
)

__all__ = [
    "LANGUAGES",
    "LAYOUTS",
    "GeneratedDoc",
    "dataset_rows",
    "expected_fields",
    "fmt_amount",
    "fmt_date",
    "generate",
    "make_doc",
    "render",
    "render_spec",
    "to_scan",
]
