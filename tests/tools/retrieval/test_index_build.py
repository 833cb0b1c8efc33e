"""Incremental index builds: only changed chunks are embedded; the manifest records the corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.tools.retrieval.conftest import CountingEmbedder
from tests.tools.retrieval.corpus import PROCEDURES, write_corpus
from tools.errors import ValidationError
from tools.retrieval.chunking import CHUNKER_VERSION, chunk_procedure
from tools.retrieval.embeddings import Embedder
from tools.retrieval.index_store import MANIFEST, build_index, is_current, read_chunks, read_embeddings
from tools.retrieval.procedures import parse_procedure_text


def _chunk_count(name: str, text: str | None = None) -> int:
    return len(chunk_procedure(parse_procedure_text(text or PROCEDURES[name], source=name)))


def test_incremental_build_embeds_only_what_changed(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    counting = CountingEmbedder(embedder)

    first = build_index([corpus], index_dir, embedder=counting)
    total = sum(_chunk_count(name) for name in PROCEDURES)
    assert first.chunks == total and first.embedded == total and len(counting.texts) == total
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert manifest["chunker_version"] == CHUNKER_VERSION
    assert manifest["model"] == embedder.name
    assert manifest["chunk_count"] == total and manifest["index_type"] == "flat"
    assert len(manifest["files"]) == len(PROCEDURES) and len(manifest["corpus_hash"]) == 64

    # Nothing changed: nothing embedded, nothing rewritten.
    counting.texts.clear()
    again = build_index([corpus], index_dir, embedder=counting)
    assert again.up_to_date and counting.texts == []

    # One section of one procedure edited: that chunk alone goes to the model.
    edited = PROCEDURES["sop-ac04.md"].replace("within 5 business days", "within 7 business days")
    (corpus / "sop-ac04.md").write_text(edited, encoding="utf-8")
    third = build_index([corpus], index_dir, embedder=counting)
    assert third.embedded == 1 and len(counting.texts) == 1 and "7 business days" in counting.texts[0]
    assert third.changed_files == [str((corpus / "sop-ac04.md").resolve())]
    assert third.reused == total - 1

    # A file removed and one added: only the new file's chunks are embedded.
    counting.texts.clear()
    (corpus / "sop-charges.md").unlink()
    new = (
        PROCEDURES["sop-charges.md"]
        .replace("SOP-CHARGES", "SOP-FEES")
        .replace("Charges disputes", "Fee claims")
    )
    (corpus / "sop-fees.md").write_text(new, encoding="utf-8")
    fourth = build_index([corpus], index_dir, embedder=counting)
    assert fourth.embedded == len(counting.texts) == _chunk_count("sop-fees.md", new)
    assert fourth.removed_files == [str((corpus / "sop-charges.md").resolve())]
    chunks = read_chunks(index_dir)
    assert {c.doc_id for c in chunks} == {"SOP-AC01", "SOP-AC04", "SOP-RECALL", "SOP-FEES", "SOP-INDEX"}
    assert read_embeddings(index_dir).shape == (len(chunks), embedder.dim)
    assert is_current(index_dir, [corpus], model_name=embedder.name)


def test_reused_vectors_equal_fresh_ones(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_corpus(tmp_path / "corpus", {"a.md": PROCEDURES["sop-recall.md"]})
    build_index([corpus], tmp_path / "index", embedder=embedder)
    (corpus / "b.md").write_text(PROCEDURES["sop-charges.md"], encoding="utf-8")
    build_index([corpus], tmp_path / "index", embedder=embedder)
    chunks, vectors = read_chunks(tmp_path / "index"), read_embeddings(tmp_path / "index")
    fresh = embedder.embed([c.embedding_text() for c in chunks])
    assert abs(vectors - fresh).max() < 1e-4


def test_model_change_re_embeds_everything(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_corpus(tmp_path / "corpus", {"a.md": PROCEDURES["sop-recall.md"]})
    build_index([corpus], tmp_path / "index", embedder=embedder)
    other = CountingEmbedder(embedder)
    other.name = "another-model"
    report = build_index([corpus], tmp_path / "index", embedder=other)
    assert report.embedded == report.chunks == len(other.texts) > 0


def test_bad_corpus_file_fails_before_writing(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_corpus(tmp_path / "corpus", {"a.md": PROCEDURES["sop-recall.md"]})
    build_index([corpus], tmp_path / "index", embedder=embedder)
    before = (tmp_path / "index" / MANIFEST).read_text()
    (corpus / "broken.md").write_text("no front matter here", encoding="utf-8")
    with pytest.raises(ValidationError) as error:
        build_index([corpus], tmp_path / "index", embedder=embedder)
    assert error.value.source is not None and error.value.source.endswith("broken.md")
    assert (tmp_path / "index" / MANIFEST).read_text() == before


def test_doc_id_twice_across_folders_is_an_error(tmp_path: Path, embedder: Embedder) -> None:
    first = write_corpus(tmp_path / "one", {"a.md": PROCEDURES["sop-recall.md"]})
    second = write_corpus(tmp_path / "two", {"b.md": PROCEDURES["sop-recall.md"]})
    with pytest.raises(ValidationError, match="SOP-RECALL is also used by"):
        build_index([first, second], tmp_path / "index", embedder=embedder)
    shutil.rmtree(second)
    with pytest.raises(ValidationError, match="does not exist"):
        build_index([first, second], tmp_path / "index", embedder=embedder)
