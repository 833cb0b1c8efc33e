"""The on-disk procedure index: build (incremental), check and load.

Layout of ``$REPAIRDESK_DATA_DIR/index/``:

- ``manifest.json``: format, model name, embedding dim, chunker version, corpus folders, the sha256
  of every corpus file, the corpus hash (sha256 over the sorted file hashes), chunk count, index type;
- ``chunks.jsonl``: the metadata sidecar, one :class:`Chunk` per line, row i = faiss id i;
- ``embeddings.npy``: the chunk vectors (float32, L2-normalised), row-aligned with the sidecar;
- ``vectors.faiss``: the faiss index over those vectors.

Contract of :func:`build_index`: it re-reads every corpus file (cheap), but embeds only chunks whose
content hash is not in the previous build made with the same model and chunker version, so editing
one procedure re-embeds only that procedure's changed sections. When the files, model and chunker
are unchanged it does nothing. A chunk the previous build lacks is looked up in the committed
embedding cache (``corpora/index-cache/``, :mod:`tools.retrieval.embedding_cache`) before it is sent to
the model, so a fresh checkout builds the shipped corpus without embedding anything; ``force``
ignores both, ``refresh_cache`` re-embeds everything and rewrites the cache. It writes the manifest
last, so an interrupted build leaves a manifest that no longer matches and the next build repairs
it. A malformed corpus file raises :class:`tools.errors.ValidationError` naming the file, before
anything is written.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tools.errors import ValidationError
from tools.retrieval.chunking import CHUNKER_VERSION, Chunk, chunk_procedure
from tools.retrieval.embedding_cache import EmbeddingCache, cache_key, default_cache_dir, write_cache
from tools.retrieval.embeddings import Embedder, current_embedder
from tools.retrieval.procedures import Procedure, load_procedures, procedure_files
from tools.retrieval.vector_index import FLAT_THRESHOLD, build_vector_index, kind_of, save_index

if TYPE_CHECKING:
    from numpy.typing import NDArray

FORMAT = 1
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
EMBEDDINGS = "embeddings.npy"
VECTORS = "vectors.faiss"

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while chunks are embedded."""


@dataclass
class BuildReport:
    """What a build did. ``embedded`` counts chunks sent to the model; ``reused`` the others, of which
    ``from_cache`` came from the committed embedding cache (the rest from the previous build)."""

    index_dir: Path
    chunks: int
    embedded: int
    reused: int
    files: int
    changed_files: list[str]
    removed_files: list[str]
    index_type: str
    seconds: float
    up_to_date: bool = False
    from_cache: int = 0
    cache_written: int = 0


def default_index_dir() -> Path:
    """The active retriever model's index folder (tools/retrieval/active_model.py: keyed by version)."""
    from tools.retrieval.active_model import active_model_name, index_dir_for

    return index_dir_for(active_model_name())


def corpus_file_hashes(corpus_dirs: Sequence[Path]) -> dict[str, str]:
    """``{absolute path: sha256}`` of every corpus file."""
    hashes: dict[str, str] = {}
    for directory in corpus_dirs:
        for path in procedure_files(directory):
            hashes[str(path.resolve())] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def corpus_hash(file_hashes: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(file_hashes):
        digest.update(f"{Path(path).name}\0{file_hashes[path]}\n".encode())
    return digest.hexdigest()


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        value = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def is_current(index_dir: Path, corpus_dirs: Sequence[Path], *, model_name: str | None = None) -> bool:
    """True when the index on disk matches the corpus files, the chunker and (if given) the model."""
    manifest = read_manifest(index_dir)
    if manifest is None or not all((index_dir / n).is_file() for n in (CHUNKS, EMBEDDINGS, VECTORS)):
        return False
    return (
        manifest.get("format") == FORMAT
        and manifest.get("chunker_version") == CHUNKER_VERSION
        and (model_name is None or manifest.get("model") == model_name)
        and manifest.get("files") == corpus_file_hashes(corpus_dirs)
    )


def load_corpus(corpus_dirs: Sequence[Path]) -> list[Procedure]:
    """Every procedure of the folders; a doc_id used twice (even across folders) is an error."""
    procedures: list[Procedure] = []
    seen: dict[str, str] = {}
    for directory in corpus_dirs:
        for procedure in load_procedures(directory):
            if procedure.doc_id in seen:
                raise ValidationError(
                    f"doc_id {procedure.doc_id} is also used by {seen[procedure.doc_id]}",
                    source=procedure.path,
                )
            seen[procedure.doc_id] = procedure.path
            procedures.append(procedure)
    return procedures


def read_chunks(index_dir: Path) -> list[Chunk]:
    with (index_dir / CHUNKS).open(encoding="utf-8") as handle:
        return [Chunk.model_validate_json(line) for line in handle if line.strip()]


def read_embeddings(index_dir: Path) -> NDArray[np.float32]:
    return np.load(index_dir / EMBEDDINGS).astype(np.float32, copy=False)


def build_index(
    corpus_dirs: Sequence[Path],
    index_dir: Path | None = None,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    flat_threshold: int = FLAT_THRESHOLD,
    force: bool = False,
    batch_size: int = 32,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    refresh_cache: bool = False,
) -> BuildReport:
    """Bring the index in ``index_dir`` up to date with ``corpus_dirs`` (see the module docstring)."""
    started = time.perf_counter()
    index_dir = index_dir or default_index_dir()
    index_dir.mkdir(parents=True, exist_ok=True)
    corpus_dirs = [Path(d).resolve() for d in corpus_dirs]
    with _locked(index_dir):
        file_hashes = corpus_file_hashes(corpus_dirs)
        previous = read_manifest(index_dir)
        embedder_name = embedder.name if embedder is not None else _default_model_name()
        force = force or refresh_cache
        if not force and is_current(index_dir, corpus_dirs, model_name=embedder_name) and previous:
            return BuildReport(
                index_dir, int(previous.get("chunk_count", 0)), 0, int(previous.get("chunk_count", 0)),
                len(file_hashes), [], [], str(previous.get("index_type", "flat")),
                time.perf_counter() - started, up_to_date=True,
            )  # fmt: skip
        chunks = [c for p in load_corpus(corpus_dirs) for c in chunk_procedure(p)]
        if not chunks:
            raise ValidationError("the corpus has no procedure text to index", source=_names(corpus_dirs))
        reusable = {} if force else _reusable_vectors(index_dir, previous, embedder_name)
        missing = [i for i, c in enumerate(chunks) if c.content_hash() not in reusable]
        from_cache = 0
        if missing and use_cache and not force:
            cache = EmbeddingCache.load(cache_dir or default_cache_dir())
            for i in missing:
                vector = cache.get(cache_key(embedder_name, CHUNKER_VERSION, chunks[i].embedding_text()))
                if vector is not None:
                    reusable[chunks[i].content_hash()] = vector
                    from_cache += 1
            missing = [i for i in missing if chunks[i].content_hash() not in reusable]
        if missing and embedder is None:
            embedder = current_embedder()
        dim = embedder.dim if embedder is not None else next(iter(reusable.values())).shape[0]
        vectors = np.zeros((len(chunks), dim), dtype=np.float32)
        for i, chunk in enumerate(chunks):
            cached = reusable.get(chunk.content_hash())
            if cached is not None:
                vectors[i] = cached
        if embedder is not None:
            _embed_missing(embedder, chunks, missing, vectors, progress, batch_size)
        cache_written = 0
        if refresh_cache:
            entries = {
                cache_key(embedder_name, CHUNKER_VERSION, c.embedding_text()): vectors[i]
                for i, c in enumerate(chunks)
            }
            cache_written = write_cache(
                cache_dir or default_cache_dir(),
                entries,
                model=embedder_name,
                chunker_version=CHUNKER_VERSION,
            )
        index = build_vector_index(vectors, threshold=flat_threshold)
        old_files: dict[str, str] = (previous or {}).get("files", {})
        _write(index_dir, chunks, vectors, index)
        manifest = {
            "format": FORMAT,
            "model": embedder_name,
            "dim": dim,
            "chunker_version": CHUNKER_VERSION,
            "corpus_dirs": [str(d) for d in corpus_dirs],
            "files": file_hashes,
            "corpus_hash": corpus_hash(file_hashes),
            "chunk_count": len(chunks),
            "index_type": kind_of(index),
            "flat_threshold": flat_threshold,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        _atomic_write_text(index_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        return BuildReport(
            index_dir=index_dir,
            chunks=len(chunks),
            embedded=len(missing),
            reused=len(chunks) - len(missing),
            files=len(file_hashes),
            changed_files=sorted(p for p, h in file_hashes.items() if old_files.get(p) != h),
            removed_files=sorted(p for p in old_files if p not in file_hashes),
            index_type=kind_of(index),
            seconds=time.perf_counter() - started,
            from_cache=from_cache,
            cache_written=cache_written,
        )


def _names(corpus_dirs: Sequence[Path]) -> str:
    return ", ".join(str(d) for d in corpus_dirs)


def _default_model_name() -> str:
    from tools.retrieval.active_model import active_model_name

    return active_model_name()


def _reusable_vectors(
    index_dir: Path, previous: dict[str, Any] | None, model_name: str
) -> dict[str, NDArray[np.float32]]:
    """Embeddings of the previous build keyed by content hash, if made by the same model and chunker."""
    if (
        previous is None
        or previous.get("model") != model_name
        or previous.get("chunker_version") != CHUNKER_VERSION
        or previous.get("format") != FORMAT
    ):
        return {}
    try:
        chunks = read_chunks(index_dir)
        vectors = read_embeddings(index_dir)
    except (OSError, ValueError):
        return {}  # a damaged previous build: embed everything again
    if len(chunks) != len(vectors):
        return {}
    return {c.content_hash(): vectors[i] for i, c in enumerate(chunks)}


def _embed_missing(
    embedder: Embedder,
    chunks: list[Chunk],
    missing: list[int],
    vectors: NDArray[np.float32],
    progress: Progress | None,
    batch_size: int,
) -> None:
    total = len(missing)
    if progress:
        progress(0, total)
    texts = {i: chunks[i].embedding_text() for i in missing}
    # Longest first, across the whole build: a batch is padded to its longest text, and chunk lengths
    # range from 10 to 256 word pieces, so batches of similar lengths cost about half as much as
    # batches in corpus order. (The model sorts within one call only.)
    ordered = sorted(missing, key=lambda i: -len(texts[i]))
    step = batch_size * 4  # a few model batches per call keeps the progress bar moving
    for start in range(0, total, step):
        rows = ordered[start : start + step]
        vectors[rows] = embedder.embed([texts[i] for i in rows], batch_size=batch_size)
        if progress:
            progress(min(start + step, total), total)


def _write(index_dir: Path, chunks: list[Chunk], vectors: NDArray[np.float32], index: Any) -> None:
    _atomic_write_text(index_dir / CHUNKS, "".join(c.model_dump_json() + "\n" for c in chunks))
    tmp = index_dir / (EMBEDDINGS + ".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(index_dir / EMBEDDINGS)
    save_index(index, index_dir / VECTORS)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder, across processes (API server and CLI alike)."""
    with (index_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
