"""The NumPy MiniLM gives sentence-transformers' vectors, so CLI queries and the index share a space."""

from __future__ import annotations

import numpy as np
import pytest

from tools.retrieval.embeddings import Embedder
from tools.retrieval.minilm import MODEL_NAME, query_embedder

TEXTS = [
    "wrong IBAN",
    "bene acct closed — what now? AC04",
    "Zahlung an Müller Maschinenbau GmbH, Rechnung 2026-0042, Betrag 12.450,00 EUR " * 12,  # truncated
    "",
]


@pytest.mark.slow  # loads sentence-transformers and torch for the reference vectors
def test_vectors_match_sentence_transformers(embedder: Embedder) -> None:
    ours = query_embedder().embed(TEXTS)
    reference = embedder.embed(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    assert np.abs(ours - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert query_embedder().name == embedder.name == MODEL_NAME  # the index manifest accepts it


def test_nothing_to_embed_and_distinct_texts() -> None:
    model = query_embedder()
    assert model.embed([]).shape == (0, 384)
    a, b = model.embed(["wrong IBAN", "closed account"])
    assert 0.0 < float(a @ b) < 0.99  # different texts, different (unit) vectors


def test_search_needs_no_torch() -> None:
    """The point of the module: a query embedding without importing torch (a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys; from tools.retrieval.minilm import query_embedder; "
        "query_embedder().embed(['wrong IBAN']); print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
