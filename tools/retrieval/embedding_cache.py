"""A committed cache of chunk embeddings, so that a fresh checkout never re-embeds the shipped corpus.

Embedding the ~900 chunks of ``corpora/`` costs a minute or more of CPU, and every fresh clone (CI's
``make test``, ``make run`` on a new machine) starts without an index. The cache in
``corpora/index-cache/`` holds the vector of every shipped chunk, keyed by
``sha256(model name, chunker version, embedding text)``: a chunk whose text, chunker or model changed
simply misses and is embedded, so the cache can be incomplete but never wrong for its key.

Layout: ``manifest.json`` (format, model, chunker version, dim, count), ``keys.txt`` (one hex key per
line, row i = vector i) and ``vectors.npy`` (float32, L2-normalised, as the model returns them).

Contract: :meth:`EmbeddingCache.load` never raises for a missing folder (an empty cache) and raises
:class:`tools.errors.ValidationError` naming the folder for a damaged one (keys and vectors that do
not line up, a bad manifest): a corrupt cache must not silently put wrong vectors in an index.
:func:`write_cache` replaces the folder's files (each written to a temporary name, then renamed).
Rewrite it with ``repairdesk index build --refresh-cache`` after editing the corpus;
tests/tools/retrieval/test_embedding_cache.py fails when cached vectors differ from fresh ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tools import config
from tools.errors import ValidationError

if TYPE_CHECKING:
    from numpy.typing import NDArray

FORMAT = 1
MANIFEST = "manifest.json"
KEYS = "keys.txt"
VECTORS = "vectors.npy"


def default_cache_dir() -> Path:
    return config.corpora_dir() / "index-cache"


def cache_key(model: str, chunker_version: str, text: str) -> str:
    """The key of one chunk's vector: anything that changes the vector changes the key."""
    return hashlib.sha256(f"{model}\0{chunker_version}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """Read-only look-up ``key -> vector`` (see the module docstring)."""

    def __init__(
        self, keys: list[str], vectors: NDArray[np.float32], *, model: str = "", dim: int = 0
    ) -> None:
        if len(keys) != len(vectors):
            raise ValidationError(f"{len(keys)} keys for {len(vectors)} vectors", source="embedding cache")
        self._rows = {key: i for i, key in enumerate(keys)}
        self._vectors = vectors
        self.model = model
        self.dim = dim or (int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else 0)

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: str) -> NDArray[np.float32] | None:
        row = self._rows.get(key)
        return None if row is None else self._vectors[row]

    @classmethod
    def load(cls, directory: Path | None = None) -> EmbeddingCache:
        directory = directory or default_cache_dir()
        if not (directory / MANIFEST).is_file():
            return cls([], np.zeros((0, 0), dtype=np.float32))
        try:
            manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
            keys = (directory / KEYS).read_text(encoding="utf-8").split()
            vectors = np.load(directory / VECTORS).astype(np.float32, copy=False)
        except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
            raise ValidationError(f"embedding cache unreadable: {exc}", source=str(directory)) from exc
        if manifest.get("format") != FORMAT or vectors.ndim != 2 or len(keys) != len(vectors):
            raise ValidationError(
                f"embedding cache damaged: {len(keys)} keys, vectors of shape {vectors.shape}, "
                f"format {manifest.get('format')!r}; rewrite it: repairdesk index build --refresh-cache",
                source=str(directory),
            )
        return cls(keys, vectors, model=str(manifest.get("model", "")), dim=int(vectors.shape[1]))


def write_cache(
    directory: Path, entries: Mapping[str, NDArray[np.float32]], *, model: str, chunker_version: str
) -> int:
    """Replace the cache in ``directory`` with ``entries`` (sorted by key, so rewrites diff well)."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = sorted(entries)
    dim = len(next(iter(entries.values()))) if entries else 0
    vectors = np.zeros((len(keys), dim), dtype=np.float32)
    for i, key in enumerate(keys):
        vectors[i] = entries[key]
    tmp = directory / (VECTORS + ".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(directory / VECTORS)
    _write_text(directory / KEYS, "".join(key + "\n" for key in keys))
    manifest = {
        "format": FORMAT,
        "model": model,
        "chunker_version": chunker_version,
        "dim": dim,
        "count": len(keys),
        "about": "chunk embeddings of corpora/; rewrite with `repairdesk index build --refresh-cache`",
    }
    _write_text(directory / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return len(keys)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
