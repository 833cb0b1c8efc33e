"""Shortcuts of the grid reader give what the full reading gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tools.documents.grids as grids
from tools.documents import extract_document


def _documents(shared: Path) -> list[tuple[str, bytes]]:
    from evals.generators.remittance import generate

    docs = [(p.name, p.read_bytes()) for p in sorted((shared / "invoices").glob("*/*.pdf"))]
    return docs + [(f"{d.name}.pdf", d.pdf) for d in generate(30, seed=5)]


def test_one_column_tables_are_not_read_and_nothing_changes(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _documents(shared_data)
    counted = grids._column_count
    narrow: list[Any] = []

    def counting(table: Any) -> int:
        columns = counted(table)
        if columns < 2:
            narrow.append(table)
        return columns

    monkeypatch.setattr(grids, "_column_count", counting)
    quick = [[e.model_dump(mode="json") for e in extract_document(data, name)] for name, data in docs]
    assert narrow, "no document has a one-column table under a header: the shortcut is untested"
    monkeypatch.setattr(grids, "_column_count", lambda table: 10**9)  # every table is read
    full = [[e.model_dump(mode="json") for e in extract_document(data, name)] for name, data in docs]
    for (name, _), fast, slow in zip(docs, quick, full, strict=True):
        assert fast == slow, name
