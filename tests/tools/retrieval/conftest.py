"""Fixtures: the test corpus, a small reference file, and one index built with the real model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.tools.retrieval.corpus import write_corpus
from tools.retrieval.reference import render_codeset

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from tools.retrieval.embeddings import Embedder
    from tools.retrieval.search import ProcedureSearch

REFERENCE_CODES = {
    "AC01": "Account number is invalid or missing.",
    "AC04": "Account number specified has been closed on the bank of account's books.",
    "AC06": "Account specified is blocked, prohibiting posting of transactions against it.",
    "DUPL": "Payment is a duplicate of another payment.",
    "FRAD": "Returned as a result of fraud.",
}


class CountingEmbedder:
    """Wraps a real embedder and counts the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        self.texts.extend(texts)
        return self.inner.embed(texts, batch_size=batch_size)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    from tools.retrieval.embeddings import default_embedder

    return default_embedder()


def write_reference(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    codeset = {
        "name": "ExternalStatusReason1Code",
        "description": "Status reasons.",
        "title": "Status reason codes",
    }
    (directory / "codeset-status.md").write_text(
        render_codeset("status", {**codeset, "codes": REFERENCE_CODES}), encoding="utf-8"
    )
    return directory


@pytest.fixture(scope="session")
def corpus_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("corpora")
    return [write_corpus(root / "procedures"), write_reference(root / "reference")]


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory, corpus_dirs: list[Path], embedder: Embedder) -> Path:
    from tools.retrieval.index_store import build_index

    directory = tmp_path_factory.mktemp("index")
    build_index(corpus_dirs, directory, embedder=embedder)
    return directory


@pytest.fixture(scope="session")
def searcher(index_dir: Path, embedder: Embedder) -> ProcedureSearch:
    from tools.retrieval.search import ProcedureSearch

    return ProcedureSearch.load(index_dir, embedder=embedder)
