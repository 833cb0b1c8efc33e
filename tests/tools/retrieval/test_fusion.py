"""Fusion: the procedure-level share lifts sections of a procedure that matches in several places."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tools.retrieval.chunking import Chunk
from tools.retrieval.fusion import FusionWeights, fuse


def _chunk(doc_id: str, section: str, kind: str = "procedure") -> Chunk:
    return Chunk(
        chunk_id=f"{doc_id}#{section}#0", doc_id=doc_id, title=doc_id, section=section,
        heading=section, text="x", kind=kind,
    )  # fmt: skip


CHUNKS = [
    _chunk("A", "1"),
    _chunk("B", "1"),
    _chunk("B", "2"),
    _chunk("B", "3"),
    _chunk("R", "AC04", "reference"),
]


def test_document_share_reorders_sections_of_a_well_matched_procedure() -> None:
    bm25, dense = [0, 1, 4, 2, 3], [0, 2, 3, 1, 4]
    plain = fuse(CHUNKS, bm25, dense, [], [], replace(FusionWeights(), doc_weight=0.0))
    shared = fuse(CHUNKS, bm25, dense, [], [], replace(FusionWeights(), doc_weight=0.1))
    assert max(plain, key=lambda i: plain[i]) == 0  # A's lone section wins on its own ranks
    # B's three sections pool their evidence: each gains 0.1 x the other two's scores.
    assert shared[1] == pytest.approx(plain[1] + 0.1 * (plain[2] + plain[3]))
    assert shared[0] == pytest.approx(plain[0])  # nothing else of A matched
    assert shared[4] == pytest.approx(plain[4])  # code-set entries are not one text: no share
    assert shared[1] > plain[1] and shared[2] > plain[2]
