"""The index type switch: exact below the threshold, IVF above; IVF recall vs exact on 200k vectors."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from tools.retrieval.synthetic import clustered_unit_vectors
from tools.retrieval.vector_index import build_vector_index, kind_of, load_index, save_index, search_vectors


def test_switch_happens_at_the_threshold(tmp_path: Path) -> None:
    vectors = clustered_unit_vectors(3000, 32, topics=30, seed=1)
    assert kind_of(build_vector_index(vectors[:2999], threshold=3000)) == "flat"
    ivf = build_vector_index(vectors, threshold=3000)
    assert kind_of(ivf) == "ivf" and ivf.ntotal == 3000
    # nprobe is not stored by faiss: loading must set it again.
    save_index(ivf, tmp_path / "v.faiss")
    loaded = load_index(tmp_path / "v.faiss")
    assert kind_of(loaded) == "ivf" and loaded.nprobe == ivf.nprobe > 1
    ids, scores = search_vectors(loaded, vectors[7], 5)
    assert ids[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-5)
    # A narrow filter scores the allowed rows exactly: they fill the list, in the exact order.
    allowed = np.zeros(3000, dtype=bool)
    allowed[::100] = True
    ids, scores = search_vectors(loaded, vectors[7], 10, allowed, vectors=vectors)
    expected = np.argsort(-(vectors[::100] @ vectors[7]))[:10] * 100
    assert ids.tolist() == expected.tolist()
    # Without the vectors the filter runs inside faiss: only allowed ids come back.
    ids, _ = search_vectors(loaded, vectors[7], 10, allowed)
    assert len(ids) > 0 and all(i % 100 == 0 for i in ids)


@pytest.mark.slow
def test_ivf_recall_against_flat_on_200k() -> None:
    faiss.omp_set_num_threads(2)
    vectors = clustered_unit_vectors(200_000, 384, seed=0)
    # Queries: fresh points around the same topics as the corpus (same seed, other sample seed).
    queries = clustered_unit_vectors(100, 384, seed=0, sample_seed=99)
    exact = faiss.IndexFlatIP(384)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)

    approx = build_vector_index(vectors)
    assert kind_of(approx) == "ivf"
    _, found = approx.search(queries, 10)
    recall = np.mean([len(set(found[i]) & set(truth[i])) / 10 for i in range(100)])
    assert recall >= 0.9, recall
