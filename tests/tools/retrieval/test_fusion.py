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


@pytest.mark.parametrize("rrf_k", [5, 60])
def test_boosts_are_measured_in_rank_one_shares(rrf_k: int) -> None:
    """A named code's decision table gains the same fraction of a rank-1 share whatever rrf_k is.

    (Absolute boosts set for rrf_k = 60 shrank to nothing when rrf_k became 5 and scores grew tenfold.)
    """
    decision = Chunk(
        chunk_id="B#3.2#0", doc_id="B", title="B", section="3.2", heading="Decision table", text="x",
        exception_codes=["AC04"],
    )  # fmt: skip
    chunks = [*CHUNKS, decision]
    weights = replace(FusionWeights(), rrf_k=rrf_k, doc_weight=0.0)
    plain = fuse(chunks, [0, 5], [0, 5], [], [], weights)
    named = fuse(chunks, [0, 5], [0, 5], ["AC04"], [], weights)
    unit = weights.boost_unit()
    assert unit == pytest.approx(1.0 / (rrf_k + 1))
    gained = (named[5] - plain[5]) / unit
    assert gained == pytest.approx(weights.code_boost + weights.decision_boost)
    assert named[0] == pytest.approx(plain[0])  # chunk A lists no code: no boost
    # The boost is worth more than one place at the top of both lists: the named code's decision table,
    # second in both, overtakes the chunk first in both (it did not while the boost was 0.008 absolute).
    assert plain[0] > plain[5] and named[5] > named[0]
