"""The compressed student folder: int8 weights on disk, the same embeddings as the float model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.retrieval.student import _spread, folder_size, is_student, load_student, save_int8

TEXTS = ["closed beneficiary account AC04", "who pays the fees on an OUR payment", "camt.056 recall"]


def test_int8_folder_round_trip(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from app.cli.retriever_models import base_model_path
    from tools.retrieval.finetune import truncate_layers

    model = SentenceTransformer(str(base_model_path()), device="cpu")
    truncate_layers(model[0].auto_model, 1)
    reference = model.encode(TEXTS, normalize_embeddings=True)
    size = save_int8(model, tmp_path / "student", kept_layers=[0])
    assert is_student(tmp_path / "student") and size == folder_size(tmp_path / "student")
    # One layer of MiniLM in float32 is ~55 MB (the word-piece table alone is 47 MB); int8 is a quarter.
    assert size < 16_000_000
    student = load_student(tmp_path / "student", "student-test")
    vectors = student.embed(TEXTS)
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() > 0.98, cosines  # int8 weights and matmuls: close to the float model


def test_layers_are_spread_and_keep_the_last() -> None:
    assert _spread(6, 3) == [1, 3, 5]
    assert _spread(6, 2) == [2, 5]
    assert _spread(6, 9) == [0, 1, 2, 3, 4, 5]
