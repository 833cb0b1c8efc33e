"""The BM25 arrays kept beside the index: read back (memory-mapped) instead of re-tokenizing, rebuilt
when the texts change, and never required (a folder that cannot be written still gives an index)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.retrieval.bm25 import BM25Index
from tools.retrieval.tokenize import tokenize

TEXTS = [
    "Beneficiary account closed: return the payment (AC04).",
    "Incorrect creditor account number: validate the IBAN against the SSI.",
    "Bank identifier incorrect: derive the BIC from a valid IBAN.",
]


def _same(a: BM25Index, b: BM25Index) -> None:
    for query in (["iban"], ["benficiary", "account"], ["bic", "return"]):
        assert np.array_equal(a.scores(query), b.scores(query))
        ids_a, scores_a = a.search(query, 2)
        ids_b, scores_b = b.search(query, 2)
        assert ids_a.tolist() == ids_b.tolist() and np.allclose(scores_a, scores_b)


def test_cached_index_reads_back_the_same_scores_without_tokenizing(tmp_path: Path) -> None:
    built = BM25Index.cached(tmp_path, TEXTS, tokenize, b=0.3)
    [folder] = [p for p in tmp_path.iterdir() if p.name.startswith("bm25-")]
    calls: list[str] = []

    def counting(text: str) -> list[str]:
        calls.append(text)
        return tokenize(text)

    counting.__module__ = tokenize.__module__  # the same tokenizer, observed
    again = BM25Index.cached(tmp_path, TEXTS, counting, b=0.3)
    assert calls == []  # read from the folder, nothing tokenized
    assert isinstance(again._weights, np.memmap)
    _same(again, BM25Index([tokenize(t) for t in TEXTS], b=0.3))
    _same(again, built)
    changed = BM25Index.cached(tmp_path, [*TEXTS, "Duplicate payment (AM05)."], counting, b=0.3)
    assert len(calls) == 4 and changed.size == 4
    assert not folder.exists()  # the old corpus's cache is removed
    assert BM25Index.cached(tmp_path, TEXTS, tokenize, b=0.75).size == 3  # other parameters: rebuilt


def test_an_unwritable_folder_still_gives_an_index(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    index = BM25Index.cached(blocked, TEXTS, tokenize, b=0.3)
    _same(index, BM25Index([tokenize(t) for t in TEXTS], b=0.3))
