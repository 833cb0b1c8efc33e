"""Hybrid procedure search: BM25 and dense lists, fused, filtered and boosted by named codes.

Public API (the agent's ``search_procedures`` tool, ``repairdesk search`` and ``GET /v1/search``):

- :class:`Hit`: ``doc_id``, ``section``, ``title``, ``text``, ``score``; its JSON (``model_dump``)
  holds exactly those five keys. ``heading``, ``kind`` and ``exception_codes`` are there for Python
  callers and left out of the JSON.
- :class:`ProcedureSearch`: built from an index folder (:meth:`ProcedureSearch.load`) or from chunks
  and vectors in memory. Thread-safe for searching (read-only data; the model sits behind a lock).
  ``search(query, code=, message_type=, k=, mode=)`` returns at most ``k`` hits, best first, one
  per (doc_id, section).
- :func:`open_search`: an instance over ``$REPAIRDESK_DATA_DIR/index``, built from the default corpus
  first when absent or out of date (the caller keeps it: no process-wide instance).
- :class:`FollowingSearch`: what a long-running process holds: the search of the *active* retriever,
  swapped for a new one when a promotion or rollback moves the pointer (checked at most every few
  seconds), so a running service serves a promoted model without a restart.

Ranking (``mode="hybrid"``): the BM25 and dense top lists fused by weighted reciprocal rank fusion,
boosted for exception codes and message types named in the query, and the named code's own procedure
promoted to first place (tools/retrieval/fusion.py). ``mode="bm25"`` and ``mode="dense"`` return one
list alone, with BM25 scores or cosine similarities. ``code=`` and ``message_type=`` are strict
filters applied inside both retrievers. Bad input (empty query, k out of range, unknown mode,
malformed code) raises :class:`tools.errors.ValidationError`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.errors import ValidationError
from tools.retrieval import index_store
from tools.retrieval.active_model import fusion_weights_for
from tools.retrieval.bm25 import BM25Index
from tools.retrieval.chunking import Chunk
from tools.retrieval.embeddings import Embedder, embedder_for
from tools.retrieval.fusion import FusionWeights, fuse, promote
from tools.retrieval.rerank import ChunkProfiles, Fused, Reranker, candidate_features, reranker_for
from tools.retrieval.synonyms import Lexicon, load_lexicon
from tools.retrieval.tokenize import codes_in, message_types_in, normalise_message_type, tokenize
from tools.retrieval.vector_index import load_index, search_vectors

if TYPE_CHECKING:
    from numpy.typing import NDArray

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[str, ...] = ("hybrid", "bm25", "dense")
MAX_K = 100
MAX_QUERY_CHARS = 2000
CANDIDATES = 60  # depth of each single list before fusion
REFERENCE_HITS_PER_DOC = 2
RERANK_KEEPS = 5  # sections a re-ranker reorders but never replaces: the gate's recall@5
# BM25 length normalisation (Okapi's default is 0.75). Chunks are sections cut at 180 words and each
# carries its procedure's title, codes and message types; at 0.75 a 15-word "Records" section won on
# those shared words alone, ahead of the longer section that answers. Chosen on the tuning half
# (docs/retrieval.md): 0.0-0.3 rank alike there, 0.3 keeps some normalisation.
BM25_B = 0.3

_CODE = re.compile(r"^[A-Z0-9_]{2,40}$")


log = logging.getLogger(__name__)


class Hit(BaseModel):
    doc_id: str
    section: str
    title: str
    text: str
    score: float
    heading: str = Field(default="", exclude=True)
    kind: str = Field(default="procedure", exclude=True)
    exception_codes: list[str] = Field(default_factory=list, exclude=True)
    chunk_id: str = Field(default="", exclude=True)


class ProcedureSearch:
    """Search over a fixed set of chunks (see the module docstring for the ranking)."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        index: Any,
        *,
        embedder: Embedder | None = None,
        known_codes: frozenset[str] | None = None,
        vectors: NDArray[np.float32] | None = None,
        weights: FusionWeights | None = None,
        lexicon: Lexicon | None = None,
        model_name: str = "",
        bm25: BM25Index | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        if index.ntotal != len(chunks):
            raise ValidationError(
                f"index holds {index.ntotal} vectors for {len(chunks)} chunks", source="index"
            )
        self.chunks = list(chunks)
        self._index = index
        self._embedder: Embedder | None = embedder
        self._vectors = vectors  # row i = chunk i; lets a narrow filter score its rows exactly
        self._lock = threading.Lock()
        self._bm25 = bm25 or BM25Index([tokenize(c.lexical_text()) for c in self.chunks], b=BM25_B)
        self._by_code = _postings(self.chunks, lambda c: c.exception_codes)
        self._by_type = _postings(self.chunks, lambda c: c.message_types)
        self.weights = weights or FusionWeights()
        # Jargon expansion of queries ("bene acct" -> beneficiary account); Lexicon([]) turns it off.
        self.lexicon = lexicon if lexicon is not None else load_lexicon()
        self.known_codes = (known_codes or frozenset()) | frozenset(self._by_code)
        self.model_name = model_name  # the model whose vectors the index holds ("" = the base model)
        # A learned re-ranker of the top fused candidates (tools/retrieval/rerank.py); None: fusion alone.
        self.reranker = reranker
        self._profiles = ChunkProfiles(self.chunks)

    @classmethod
    def load(cls, index_dir: Path | None = None, *, embedder: Embedder | None = None) -> ProcedureSearch:
        """Open a built index folder; raises ValidationError when it is missing or damaged."""
        index_dir = index_dir or index_store.default_index_dir()
        try:
            chunks = index_store.read_chunks(index_dir)
            index = load_index(index_dir / index_store.VECTORS)
            vectors = np.load(index_dir / index_store.EMBEDDINGS, mmap_mode="r")
            bm25 = BM25Index.cached(index_dir, [c.lexical_text() for c in chunks], tokenize, b=BM25_B)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ValidationError(
                f"no usable index ({exc}); run `repairdesk index build`", source=str(index_dir)
            ) from exc
        # The index is keyed by the model that embedded it: queries must be embedded by the same
        # model, and the fusion weights tuned for it apply (tools/retrieval/active_model.py).
        model_name = str((index_store.read_manifest(index_dir) or {}).get("model", ""))
        weights = fusion_weights_for(model_name)
        return cls(
            chunks,
            index,
            embedder=embedder,
            known_codes=_reference_codes(),
            vectors=vectors,
            weights=weights,
            model_name=model_name,
            bm25=bm25,
            reranker=reranker_for(model_name, weights or FusionWeights()) if model_name else None,
        )

    @property
    def embedder(self) -> Embedder:
        """The dense model, loaded on the first dense query (BM25-only use never loads it)."""
        with self._lock:
            embedder = self._embedder
            if embedder is None:
                embedder = self._embedder = embedder_for(self.model_name)
            return embedder

    def search(
        self,
        query: str,
        *,
        code: str | None = None,
        message_type: str | None = None,
        k: int = 5,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        """The best ``k`` sections for ``query``; see the module docstring."""
        query = check_request(query, k=k, mode=mode, code=code)
        allowed = self._filter_mask(code, message_type)
        if allowed is not None and not allowed.any():
            return []
        depth = max(CANDIDATES, 4 * k)
        if mode == "bm25":
            extra = self.lexicon.expand(query).tokens
            ids, values = self._bm25.search(tokenize(query), depth, allowed, extra)
            return self._hits(ids.tolist(), dict(zip(ids.tolist(), values.tolist(), strict=True)), k)
        dense_ids, dense_values = self.dense_candidates(query, depth, allowed)
        if mode == "dense":
            return self._hits(dense_ids, dict(zip(dense_ids, dense_values, strict=True)), k)
        bm25_ids, bm25_values = self.bm25_list(query, depth, allowed)
        fused = self.fused_candidates(query, bm25_ids, bm25_values, dense_ids, dense_values, allowed)
        order, scores = self.rank(fused, self.reranker)
        return self._hits(order, scores, k)

    def bm25_list(
        self, query: str, depth: int, allowed: NDArray[np.bool_] | None = None
    ) -> tuple[list[int], list[float]]:
        """The BM25 top ``depth`` chunk ids and scores for ``query`` (with its jargon synonyms,
        weighted lower)."""
        extra = self.lexicon.expand(query).tokens
        ids, values = self._bm25.search(tokenize(query), depth, allowed, extra)
        return ids.tolist(), values.tolist()

    def bm25_candidates(self, query: str, depth: int, allowed: NDArray[np.bool_] | None = None) -> list[int]:
        """The BM25 top ``depth`` chunk ids for ``query``."""
        return self.bm25_list(query, depth, allowed)[0]

    def dense_candidates(
        self, query: str, depth: int, allowed: NDArray[np.bool_] | None = None
    ) -> tuple[list[int], list[float]]:
        """The dense top ``depth`` chunk ids and cosine similarities for ``query``.

        The model reads the query with its abbreviations spelled out (tools/retrieval/synonyms.py).
        """
        vector = self.embedder.embed([self.lexicon.expand(query).dense_text])[0]
        ids, values = search_vectors(self._index, vector, depth, allowed, vectors=self._vectors)
        return ids.tolist(), values.tolist()

    def fused_candidates(
        self,
        query: str,
        bm25_ids: list[int],
        bm25_values: list[float],
        dense_ids: list[int],
        dense_values: list[float],
        allowed: NDArray[np.bool_] | None = None,
        weights: FusionWeights | None = None,
    ) -> Fused:
        """The two lists fused (tools/retrieval/fusion.py), before re-ranking and promotion."""
        weights = weights or self.weights
        named = codes_in(query, self.known_codes)
        types = message_types_in(query)
        scores = fuse(self.chunks, bm25_ids, dense_ids, named, types, weights)
        order = sorted(scores, key=lambda i: (-scores[i], i))
        extra = [
            i
            for code in named
            for i in self._by_code.get(code, np.zeros(0, dtype=np.int64)).tolist()
            if allowed is None or allowed[i]
        ]
        return Fused(
            query=query,
            named=named,
            types=types,
            bm25={i: (r, v) for r, (i, v) in enumerate(zip(bm25_ids, bm25_values, strict=True), 1)},
            dense={i: (r, v) for r, (i, v) in enumerate(zip(dense_ids, dense_values, strict=True), 1)},
            order=order,
            scores=scores,
            unit=weights.boost_unit(),
            extra=extra,
        )

    def rank(
        self,
        fused: Fused,
        reranker: Reranker | None = None,
        candidates: tuple[list[int], NDArray[np.float64]] | None = None,
    ) -> tuple[list[int], dict[int, float]]:
        """Final hybrid order and scores: the named code's procedure promoted over the fused order
        (tools/retrieval/fusion.py); with ``reranker``, its order of the top fused candidates instead,
        held to the fusion's first :data:`RERANK_KEEPS` sections (see below).

        The re-ranker may reorder those sections and everything after them, but never swap a
        section into or out of them: the gate asks a re-ranker for no loss on recall@5, and a
        reorder 30 deep moved gold sections below the fifth place. Scores are the fusion's ladder
        (position p takes the score the fusion's order has at p), so they never increase down the
        list and keep the fusion's scale. ``candidates``: the features of ``fused`` at
        ``reranker.depth`` when already computed (fitting).
        """
        order, scores = self._promoted(fused, fused.order)
        if reranker is None:
            return order, scores
        ids, matrix = candidates or candidate_features(
            fused, self.chunks, self._profiles, self._bm25, reranker.depth
        )
        reranked, _ = self._promoted(fused, reranker.reorder(ids, matrix, fused.order))
        kept = {(h.doc_id, h.section) for h in self._hits(order, scores, RERANK_KEEPS)}

        def key(i: int) -> tuple[str, str]:
            return self.chunks[i].doc_id, self.chunks[i].section

        final = [i for i in reranked if key(i) in kept] + [i for i in reranked if key(i) not in kept]
        ladder = [scores[i] for i in order]
        return final, {**scores, **{i: ladder[p] for p, i in enumerate(final)}}

    def _promoted(self, fused: Fused, order: list[int]) -> tuple[list[int], dict[int, float]]:
        """``order`` with the named code's procedure promoted, and the scores: the fused ones, a
        promoted chunk just above the first."""
        scores = dict(fused.scores)
        promoted = promote(self.chunks, order, fused.named, fused.extra)
        if promoted and (not order or promoted[0] != order[0]):
            scores[promoted[0]] = (scores[order[0]] if order else 0.0) + 1e-6
        return promoted, scores

    def _filter_mask(self, code: str | None, message_type: str | None) -> NDArray[np.bool_] | None:
        mask: NDArray[np.bool_] | None = None
        if code is not None and code.strip():
            normalised = code.strip().upper()
            if not _CODE.match(normalised):
                raise ValidationError("not an exception code (2-40 letters, digits or _)", source=code)
            mask = self._mask(self._by_code.get(normalised))
        if message_type is not None and message_type.strip():
            type_mask = self._mask(self._by_type.get(normalise_message_type(message_type)))
            mask = type_mask if mask is None else mask & type_mask
        return mask

    def _mask(self, ids: NDArray[np.int64] | None) -> NDArray[np.bool_]:
        mask = np.zeros(len(self.chunks), dtype=bool)
        if ids is not None:
            mask[ids] = True
        return mask

    @property
    def bm25(self) -> BM25Index:
        return self._bm25

    @property
    def profiles(self) -> ChunkProfiles:
        return self._profiles

    def hits(self, order: list[int], scores: dict[int, float], k: int) -> list[Hit]:
        """The first ``k`` distinct (doc_id, section) of ``order``, as hits (see ``_hits``)."""
        return self._hits(order, scores, k)

    def _hits(self, order: list[int], scores: dict[int, float], k: int) -> list[Hit]:
        """The first ``k`` distinct (doc_id, section) of ``order``, as hits."""
        hits: list[Hit] = []
        seen: set[tuple[str, str]] = set()
        per_doc: dict[str, int] = {}
        for i in order:
            chunk = self.chunks[i]
            key = (chunk.doc_id, chunk.section)
            if key in seen:
                continue
            # A code set is a dictionary: two of its entries are enough, the rest would crowd out the
            # procedures (a code named in a question matches its neighbours' definitions too).
            if chunk.kind == "reference":
                if per_doc.get(chunk.doc_id, 0) >= REFERENCE_HITS_PER_DOC:
                    continue
                per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
            seen.add(key)
            hits.append(
                Hit(
                    doc_id=chunk.doc_id,
                    section=chunk.section,
                    title=chunk.title,
                    text=chunk.text,
                    score=round(float(scores[i]), 6),
                    heading=chunk.heading,
                    kind=chunk.kind,
                    exception_codes=chunk.exception_codes,
                    chunk_id=chunk.chunk_id,
                )
            )
            if len(hits) == k:
                break
        return hits


def check_request(query: Any, *, k: Any = 5, mode: Any = "hybrid", code: Any = None) -> str:
    """Validate search arguments without touching an index; returns the stripped query.

    Raises ValidationError naming the bad argument (callers check before paying for a model load).
    """
    if not isinstance(query, str) or not query.strip():
        raise ValidationError("the query is empty", source="query")
    if len(query) > MAX_QUERY_CHARS:
        raise ValidationError(f"the query is longer than {MAX_QUERY_CHARS} characters", source="query")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValidationError(f"k must be an integer from 1 to {MAX_K}", source=str(k))
    if mode not in MODES:
        raise ValidationError(f"mode must be one of {', '.join(MODES)}", source=str(mode))
    if code is not None and code.strip() and not _CODE.match(code.strip().upper()):
        raise ValidationError("not an exception code (2-40 letters, digits or _)", source=str(code))
    return query.strip()


def _postings(chunks: Sequence[Chunk], values: Callable[[Chunk], list[str]]) -> dict[str, NDArray[np.int64]]:
    table: dict[str, list[int]] = {}
    for i, chunk in enumerate(chunks):
        for value in values(chunk):
            table.setdefault(value, []).append(i)
    return {key: np.array(ids, dtype=np.int64) for key, ids in table.items()}


def _reference_codes() -> frozenset[str]:
    from tools.retrieval.codes import known_codes

    try:
        return known_codes()
    except ValidationError:
        return frozenset()  # no generated reference table: codes from the procedures still work


def open_search(index_dir: Path | None = None, *, embedder: Embedder | None = None) -> ProcedureSearch:
    """The search over ``index_dir`` (default ``$REPAIRDESK_DATA_DIR/index``), building it
    (incrementally) from the default corpus first when it is absent or out of date.

    Each call opens a new instance: the service holds one per app, the CLI one per command. The
    ``embedder`` embeds queries (default: sentence-transformers, loaded on the first dense query)."""
    from tools.retrieval.procedures import default_corpus_dirs

    index_dir = index_dir or index_store.default_index_dir()
    dirs = [d for d in default_corpus_dirs() if d.is_dir()]
    if not index_store.is_current(index_dir, dirs):
        index_store.build_index(dirs, index_dir)
    return ProcedureSearch.load(index_dir, embedder=embedder)


FOLLOW_CHECK_SECONDS = 2.0


def serving_stamp() -> tuple[object, object]:
    """What decides which search serves: the retriever pointer's stamp and the stamp of the
    re-ranker file of the model it names (``repairdesk model train|rollback reranker``)."""
    from tools.retrieval.active_model import active_model_name, pointer_stamp
    from tools.retrieval.rerank import reranker_path

    try:
        stat = reranker_path(active_model_name()).stat()
        reranker: object = (stat.st_mtime_ns, stat.st_size)
    except (OSError, ValidationError):
        reranker = None  # none served (or a pointer that cannot be read: the old search stays)
    return pointer_stamp(), reranker


class FollowingSearch:
    """The active retriever's search, re-opened when ``repairdesk model promote|rollback`` moves the
    pointer (tools/retrieval/active_model.py) or a re-ranker starts or stops serving.

    Why a stamp and not a watch: one ``stat`` of the pointer at most every ``check_seconds``
    costs microseconds and needs no thread. The new search is opened before the swap, outside the
    lock, so queries keep being answered by the old model meanwhile; a pointer that cannot be read
    (or a new index that fails to open) keeps the old search and is tried again at the next check.
    Attribute access other than ``search`` goes to the current instance.
    """

    def __init__(
        self,
        opener: Callable[[], ProcedureSearch] | None = None,
        *,
        check_seconds: float = FOLLOW_CHECK_SECONDS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        import time

        self._opener = opener or open_search
        self._stamp_of = serving_stamp
        self._clock = clock or time.monotonic
        self.check_seconds = check_seconds
        self._swap_lock = threading.Lock()
        self._stamp = serving_stamp()
        self._current = self._opener()
        self._checked_at = self._clock()
        self.reloads = 0

    @property
    def current(self) -> ProcedureSearch:
        self._follow()
        return self._current

    def search(self, query: str, **kwargs: Any) -> list[Hit]:
        return self.current.search(query, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.current, name)

    def _follow(self) -> None:
        now = self._clock()
        if now - self._checked_at < self.check_seconds:
            return
        if not self._swap_lock.acquire(blocking=False):
            return  # another request is already re-opening; this one uses the current search
        try:
            self._checked_at = now
            stamp = self._stamp_of()
            if stamp == self._stamp:
                return
            try:
                fresh = self._opener()
            except ValidationError as exc:
                log.warning("promoted retriever not loaded, the previous one keeps serving: %s", exc)
                return
            self._current, self._stamp = fresh, stamp
            self.reloads += 1
            log.info("retriever switched to %s", fresh.model_name or "the base model")
        finally:
            self._swap_lock.release()
