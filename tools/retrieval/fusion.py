"""Fusing the BM25 and dense ranked lists, and what a named exception code does to the ranking.

Contract of :func:`fuse`: weighted reciprocal rank fusion, ``w / (rrf_k + rank)`` from each list a
chunk appears in; a reference (code-set) chunk's share is multiplied by ``reference`` unless the
query names a code, because short definitions otherwise crowd out procedure text on plain questions.
Each procedure chunk then gains ``doc_weight`` times the summed score of its procedure's other
candidate chunks. Then additive boosts, each in units of a rank-1 BM25 share (``bm25 / (rrf_k + 1)``, see
:meth:`FusionWeights.boost_unit`): ``code_boost / sqrt(codes listed)`` for a procedure chunk
listing a named code (a narrow procedure gains more than a broad one), ``reference_code_boost`` for
the code-set section of a named code, ``decision_boost`` for the decision table of a named code's
procedure (a query that is little more than a code asks what to do), ``message_type_boost`` for a
chunk whose procedure lists a named message type.

Contract of :func:`promote`: when the query names a code that a procedure lists, the best chunk of
that code's own procedure (most named codes listed, then fewest codes listed, then best score) goes
first: "a query that names AC04 must find the AC04 procedure first" (issue 4). The rest keep the
fused order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tools.retrieval.chunking import Chunk


@dataclass(frozen=True)
class FusionWeights:
    """Tuned on the tuning half of evals/datasets/retrieval.jsonl (docs/retrieval.md: the split, the
    grid and the figures on both halves).

    Dense counts less than BM25: all-MiniLM-L6-v2 knows little of payment jargon and codes. A small
    ``rrf_k`` lets the top of each list count more than its tail.

    The four boosts are fractions of :meth:`boost_unit`, the share of a BM25 rank-1 hit, so that they
    keep their weight against the fused scores whatever ``rrf_k`` is. (They were first set as
    absolute numbers for ``rrf_k = 60``; when ``rrf_k`` went to 5 the fused scores grew tenfold and
    the boosts silently shrank to almost nothing. These are those values times 61, rounded.)
    """

    rrf_k: int = 5
    bm25: float = 1.0
    dense: float = 0.3
    reference: float = 0.3
    code_boost: float = 0.3
    reference_code_boost: float = 0.15
    message_type_boost: float = 0.12
    decision_boost: float = 0.18
    doc_weight: float = 0.1

    def boost_unit(self) -> float:
        """What a chunk ranked first by BM25 gets from that list: the scale of the boosts."""
        return self.bm25 / (self.rrf_k + 1)


def fuse(
    chunks: Sequence[Chunk],
    bm25_ids: Sequence[int],
    dense_ids: Sequence[int],
    named_codes: Sequence[str],
    message_types: Sequence[str],
    weights: FusionWeights,
) -> dict[int, float]:
    """Fused score per candidate chunk id (see the module docstring)."""
    scores: dict[int, float] = {}
    for weight, ids in ((weights.bm25, bm25_ids), (weights.dense, dense_ids)):
        for rank, i in enumerate(ids, 1):
            share = weight / (weights.rrf_k + rank)
            if chunks[i].kind == "reference" and not named_codes:
                share *= weights.reference
            scores[i] = scores.get(i, 0.0) + share
    if weights.doc_weight:
        _add_document_evidence(chunks, scores, weights.doc_weight)
    if not named_codes and not message_types:
        return scores
    unit = weights.boost_unit()
    for i in scores:
        chunk = chunks[i]
        matched = sum(1 for code in named_codes if code in chunk.exception_codes)
        if matched:
            if chunk.kind == "reference":
                scores[i] += unit * weights.reference_code_boost
            else:
                scores[i] += unit * weights.code_boost * matched / math.sqrt(len(chunk.exception_codes))
        if matched and chunk.kind != "reference" and "decision" in chunk.heading.lower():
            scores[i] += unit * weights.decision_boost
        if message_types and any(t in chunk.message_types for t in message_types):
            scores[i] += unit * weights.message_type_boost
    return scores


def _add_document_evidence(chunks: Sequence[Chunk], scores: dict[int, float], weight: float) -> None:
    """Add ``weight`` times the summed score of the chunk's procedure's other chunks.

    Why: the evidence for "this is the right procedure" is spread over its sections; a section of a
    procedure that matches in several places outranks a lone matching section of another one, so more
    sections of the right procedure reach the top k (most misses are another section of the right one).
    Code-set entries are separate definitions, not parts of one text: they get no such share.
    """
    totals: dict[str, float] = {}
    for i, score in scores.items():
        if chunks[i].kind != "reference":
            totals[chunks[i].doc_id] = totals.get(chunks[i].doc_id, 0.0) + score
    for i, score in list(scores.items()):
        if chunks[i].kind != "reference":
            scores[i] = score + weight * (totals[chunks[i].doc_id] - score)


def promote(
    chunks: Sequence[Chunk],
    order: list[int],
    named_codes: Sequence[str],
    extra: Sequence[int] = (),
) -> list[int]:
    """``order`` with the named code's own procedure's best chunk first.

    ``extra`` are chunks of procedures listing a named code that neither list returned; they are
    considered (after ``order``) so that the procedure is found even when the text never matched.
    """
    if not named_codes:
        return order
    named = set(named_codes)
    seen = set(order)
    candidates = [*order, *(j for j in extra if j not in seen)]
    best: tuple[int, int, int] | None = None  # (-codes matched, codes listed, position): smallest wins
    for position, i in enumerate(candidates):
        chunk = chunks[i]
        matched = len(named & set(chunk.exception_codes))
        if chunk.kind == "reference" or not matched:
            continue
        key = (-matched, len(chunk.exception_codes), position)
        if best is None or key < best:
            best = key
    if best is None:
        return order
    chosen = candidates[best[2]]
    return [chosen, *(i for i in order if i != chosen)]
