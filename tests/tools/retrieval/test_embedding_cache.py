"""The committed embedding cache: keyed by model, chunker and text; used by builds; never stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.tools.retrieval.conftest import CountingEmbedder
from tests.tools.retrieval.corpus import write_corpus
from tools.errors import ValidationError
from tools.retrieval.chunking import CHUNKER_VERSION
from tools.retrieval.embedding_cache import EmbeddingCache, cache_key, default_cache_dir, write_cache
from tools.retrieval.embeddings import Embedder
from tools.retrieval.index_store import build_index, read_chunks, read_embeddings

SAMPLE = 24  # cached vectors re-embedded per run: enough to catch a stale cache, cheap on CPU


def test_key_changes_with_model_chunker_and_text() -> None:
    key = cache_key("m", "v1", "text")
    assert len(key) == 64 and key == cache_key("m", "v1", "text")
    assert (
        len({key, cache_key("m2", "v1", "text"), cache_key("m", "v2", "text"), cache_key("m", "v1", "t")})
        == 4
    )


def test_round_trip_missing_and_damaged(tmp_path: Path) -> None:
    assert len(EmbeddingCache.load(tmp_path / "absent")) == 0
    vectors = {"b" * 64: np.ones(3, dtype=np.float32), "a" * 64: np.arange(3, dtype=np.float32)}
    assert write_cache(tmp_path / "c", vectors, model="m", chunker_version="v") == 2
    cache = EmbeddingCache.load(tmp_path / "c")
    assert len(cache) == 2 and cache.model == "m" and cache.dim == 3
    found = cache.get("a" * 64)
    assert found is not None and np.array_equal(found, np.arange(3)) and cache.get("c" * 64) is None
    (tmp_path / "c" / "keys.txt").write_text("a" * 64 + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="damaged") as error:
        EmbeddingCache.load(tmp_path / "c")
    assert error.value.source == str(tmp_path / "c")


def test_build_uses_the_cache_and_refresh_rewrites_it(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    cache_dir = tmp_path / "cache"
    first = build_index(
        [corpus], tmp_path / "one", embedder=embedder, cache_dir=cache_dir, refresh_cache=True
    )
    assert first.embedded == first.chunks == first.cache_written == len(EmbeddingCache.load(cache_dir))

    counting = CountingEmbedder(embedder)
    second = build_index([corpus], tmp_path / "two", embedder=counting, cache_dir=cache_dir)
    assert second.embedded == 0 and counting.texts == [] and second.from_cache == second.chunks
    assert np.array_equal(read_embeddings(tmp_path / "one"), read_embeddings(tmp_path / "two"))

    # Without the cache, or for another model, every chunk goes to the model.
    third = build_index([corpus], tmp_path / "three", embedder=counting, cache_dir=cache_dir, use_cache=False)
    assert third.embedded == third.chunks and third.from_cache == 0
    other = CountingEmbedder(embedder)
    other.name = "another-model"
    fourth = build_index([corpus], tmp_path / "four", embedder=other, cache_dir=cache_dir)
    assert fourth.embedded == fourth.chunks and fourth.from_cache == 0


def test_shipped_cache_covers_the_corpus_and_equals_fresh_embeddings(
    real_corpus_index: Any, embedder: Embedder
) -> None:
    """A fresh build of corpora/ embeds nothing, and cached vectors are what the model computes now.

    Fails after a corpus, chunker or model change until `repairdesk index build --refresh-cache`.
    """
    report = real_corpus_index
    assert report.embedded == 0, "stale corpora/index-cache: run `repairdesk index build --refresh-cache`"
    assert report.from_cache == report.chunks > 0
    cache = EmbeddingCache.load(default_cache_dir())
    assert cache.model == embedder.name
    chunks = read_chunks(report.index_dir)
    rows = np.random.default_rng(4).choice(len(chunks), size=min(SAMPLE, len(chunks)), replace=False)
    texts = [chunks[i].embedding_text() for i in rows]
    fresh = embedder.embed(texts)
    found = [cache.get(cache_key(embedder.name, CHUNKER_VERSION, t)) for t in texts]
    assert all(v is not None for v in found)
    cached = np.stack([v for v in found if v is not None])
    assert np.abs(cached - fresh).max() < 1e-4
