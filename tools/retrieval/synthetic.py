"""Synthetic chunk vectors and texts for the scale test and the benchmark (no model involved).

Random unit vectors drawn around random topic centres: real sentence embeddings cluster by topic,
and uniformly random 384-dimensional vectors (all nearly equidistant) would measure a worst case no
corpus has. Texts are drawn from a fixed payment-operations vocabulary so that BM25 postings have
realistic lengths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tools.retrieval.chunking import Chunk

if TYPE_CHECKING:
    from numpy.typing import NDArray

_VOCABULARY = (
    "account beneficiary creditor debtor iban bic return reject recall cancellation investigation",
    "query amount currency charges fees duplicate payment transfer settlement instruction customer",
    "address name mismatch closed blocked invalid missing regulatory reporting sanctions screening",
    "escalate approve four-eyes threshold value date cut-off cover intermediary agent field",
    "remittance invoice unapplied cash short over partial reference uetr gpi tracker nostro vostro",
    "reconciliation statement entry procedure step record audit evidence ssi standing repair",
    "release hold queue analyst operations",
)
_WORDS = tuple(word for line in _VOCABULARY for word in line.split())
_CODES = ("AC01", "AC03", "AC04", "AC06", "AM05", "BE01", "RC01", "RR03", "FF01", "MS03", "CUST", "DUPL")


def clustered_unit_vectors(
    count: int,
    dim: int = 384,
    *,
    topics: int = 1000,
    spread: float = 0.06,
    seed: int = 0,
    sample_seed: int | None = None,
) -> NDArray[np.float32]:
    """``count`` L2-normalised float32 vectors around ``topics`` random centres.

    The centres depend on ``seed`` only; the points on ``sample_seed`` (default ``seed + 1``), so
    queries drawn with the same ``seed`` and another ``sample_seed`` share the corpus's topics.
    """
    centres = np.random.default_rng(seed).standard_normal((topics, dim), dtype=np.float32)
    rng = np.random.default_rng(seed + 1 if sample_seed is None else sample_seed)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((count, dim), dtype=np.float32)
    step = 50_000  # in blocks, to keep peak memory near the output's size
    for start in range(0, count, step):
        n = min(step, count - start)
        block = centres[rng.integers(0, topics, n)] + spread * rng.standard_normal((n, dim), dtype=np.float32)
        out[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def synthetic_chunks(count: int, *, seed: int = 0) -> list[Chunk]:
    """``count`` chunks with random texts of 40-120 words, codes and message types."""
    rng = np.random.default_rng(seed)
    words = np.array(_WORDS)
    chunks: list[Chunk] = []
    for i in range(count):
        code = _CODES[i % len(_CODES)]
        text = " ".join(words[rng.integers(0, len(words), int(rng.integers(40, 120)))].tolist())
        chunks.append(
            Chunk(
                chunk_id=f"SYN-{i // 10}#{i % 10}#0",
                doc_id=f"SYN-{i // 10}",
                title=f"Synthetic procedure {i // 10} ({code})",
                section=str(i % 10 + 1),
                heading="Synthetic section",
                text=f"{code} {text}",
                exception_codes=[code],
                message_types=["mt103"] if i % 2 else ["pacs.008"],
            )
        )
    return chunks
