"""A learned re-ranker over the hybrid search's fused candidates (learning to rank, pointwise).

Why: the fusion (tools/retrieval/fusion.py) finds the right procedure almost always (held-out doc
recall@5 0.99) but often ranks a generic section of it (Purpose, Records, Escalation) above the one
that answers. Features that the fusion cannot weigh against each other by hand (how much of the
query the heading covers, the section's length and kind, where the chunk sits in each list, how
strongly its procedure is supported) are already computed or cheap at query time, so a small model
over the top ``depth`` fused chunks re-orders them for a fraction of a millisecond.

Contract:

- :func:`candidate_features` turns one query's :class:`Fused` candidates into a matrix, one row per
  candidate in fused order, columns :data:`FEATURES`; training (evals/rerank_fit.py) and serving use
  this one function, so the model sees at query time exactly what it was fitted on.
- :class:`Reranker` is the artefact: plain JSON (no pickle: loading runs no code), format
  :data:`FORMAT`, either gradient-boosted trees (node arrays, scored with
  :class:`tools.calibration.model.Forest`, the calibrator's export) or a standardised linear score.
  It is keyed to the embedding model (``embedder``) and the fusion weights (``fusion``) it was
  fitted over: fused scores and dense cosines mean something else under another model or other
  weights, so :func:`reranker_for` returns None (the plain fusion serves) when they differ.
  :meth:`Reranker.load` raises :class:`tools.errors.ValidationError` for a malformed file (wrong
  format, a feature list other than :data:`FEATURES`, arrays that disagree, a tree that does not end
  in leaves).
- :meth:`Reranker.reorder`: the top ``depth`` of the fused order sorted by the model's score (ties
  keep the fused order), the rest after them unchanged. The search then applies the named-code
  promotion as before (a query naming AC04 still finds SOP-AC04 first; the re-ranker only chooses
  which of its sections), and reports at each position the fused score that position had, so hit
  scores keep their scale for the confidence calibrator and never increase down the list.
- Where it lives: ``$REPAIRDESK_DATA_DIR/models/reranker/<slug of the embedder name>.json``
  (:func:`reranker_path`); no file, the fusion alone ranks. ``repairdesk model train reranker``
  writes a fit to ``<slug>.challenger.json``, registers it in MLflow (app/cli/reranker_models.py)
  and copies the registered version there only when the retriever gate passes it (it becomes the
  champion); ``repairdesk model rollback reranker`` serves the previous champion's file again, or
  removes the serving file when there was none.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tools import config
from tools.calibration.model import Forest, check_tree
from tools.errors import ValidationError
from tools.retrieval.tokenize import tokenize

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tools.retrieval.bm25 import BM25Index
    from tools.retrieval.chunking import Chunk
    from tools.retrieval.fusion import FusionWeights

FORMAT = "repairdesk-reranker/1"
DEPTH = 20
KINDS = ("trees", "linear")

log = logging.getLogger(__name__)

FEATURES: tuple[str, ...] = (
    "fused_rank",  # 1-based position in the fused order
    "fused_rel",  # fused score / the top fused score
    "fused_units",  # fused score in rank-1 BM25 shares (FusionWeights.boost_unit)
    "bm25_rank",  # 1-based, depth of the list + 1 when absent
    "bm25_rel",  # BM25 score / the best BM25 score (0 when absent)
    "dense_rank",
    "dense_cos",  # cosine similarity (0 when absent)
    "dense_gap",  # best cosine of the list - this one's
    "reference",  # a code-set entry
    "decision",  # a decision table
    "section_depth",  # "3.2" -> 2, "3" -> 1, unnumbered -> 0
    "section_major",  # "3.2" -> 3, unnumbered -> 0 (procedures follow one template: playbook.md)
    "heading_spread",  # log(1 + procedures with a section of this heading): "Purpose and scope" is everywhere
    "part",  # which part of a split section
    "log_words",
    "steps",  # numbered steps the chunk holds
    "named_codes",  # codes the query names
    "code_matched",  # named codes the chunk's procedure lists (or the code-set entry is)
    "codes_listed",  # codes the chunk's procedure lists
    "named_types",
    "type_matched",
    "query_terms",
    "heading_cover",  # share of the query's terms in the chunk's own heading
    "heading_idf_cover",  # the same weighted by BM25 idf
    "path_cover",  # ... in the heading path (parents included)
    "title_cover",
    "text_cover",
    "text_idf_cover",
    "own_idf_cover",  # idf share of query terms in the section's text or heading but not its title
    "question_mark",
    "doc_candidates",  # chunks of the same procedure among the candidates
    "doc_rank",  # rank of the procedure by its best candidate
    "doc_share",  # the procedure's summed fused score / all candidates' summed score
    "rank_in_doc",  # 1 for the procedure's best candidate
)


@dataclass
class Fused:
    """What a hybrid query computed before the final order: the inputs of the features.

    ``bm25`` and ``dense`` map chunk id -> (1-based rank, score) in each list; ``order`` is the fused
    order (before promotion) and ``scores`` the fused scores; ``extra`` are chunks of a named code's
    procedures that neither list returned (promotion candidates).
    """

    query: str
    named: list[str]
    types: list[str]
    bm25: dict[int, tuple[int, float]]
    dense: dict[int, tuple[int, float]]
    order: list[int]
    scores: dict[int, float]
    unit: float
    extra: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Profile:
    heading: frozenset[str]
    path: frozenset[str]
    title: frozenset[str]
    text: frozenset[str]
    words: int
    depth: int
    major: int
    spread: float


class ChunkProfiles:
    """Token sets of each chunk's heading, heading path, title and text, made on first use (a query
    touches 20 chunks; the whole corpus is never tokenised up front)."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = chunks
        self._made: dict[int, _Profile] = {}
        self._lock = threading.Lock()
        self._spread: dict[str, int] | None = None

    def spread(self, heading: str) -> int:
        """How many documents have a section headed ``heading`` (case-insensitive)."""
        if self._spread is None:
            docs: dict[str, set[str]] = {}
            for chunk in self.chunks:
                docs.setdefault(chunk.heading.strip().lower(), set()).add(chunk.doc_id)
            self._spread = {h: len(d) for h, d in docs.items()}
        return self._spread.get(heading.strip().lower(), 1)

    def __getitem__(self, i: int) -> _Profile:
        made = self._made.get(i)
        if made is None:
            chunk = self.chunks[i]
            numbered = re.fullmatch(r"\d+(?:\.\d+)*", chunk.section)
            made = _Profile(
                heading=frozenset(tokenize(chunk.heading)),
                path=frozenset(tokenize(" ".join(chunk.heading_path))),
                title=frozenset(tokenize(chunk.title)),
                text=frozenset(tokenize(chunk.text)),
                words=len(chunk.text.split()),
                depth=chunk.section.count(".") + 1 if numbered else 0,
                major=int(chunk.section.split(".")[0]) if numbered else 0,
                spread=math.log1p(self.spread(chunk.heading)),
            )
            with self._lock:
                self._made[i] = made
        return made


def candidate_features(
    fused: Fused,
    chunks: Sequence[Chunk],
    profiles: ChunkProfiles,
    bm25: BM25Index,
    depth: int = DEPTH,
) -> tuple[list[int], np.ndarray]:
    """(candidate chunk ids in fused order, their feature matrix): the first ``depth`` of ``fused``."""
    ids = fused.order[:depth]
    matrix = np.zeros((len(ids), len(FEATURES)))
    if not ids:
        return ids, matrix
    terms = sorted(set(tokenize(fused.query)))
    idf = [bm25.idf(t) for t in terms]
    idf_total = sum(idf) or 1.0
    top = fused.scores[ids[0]] or 1.0
    best_bm25 = max((s for _, s in fused.bm25.values()), default=1.0) or 1.0
    best_cos = max((s for _, s in fused.dense.values()), default=0.0)
    absent_bm25, absent_dense = len(fused.bm25) + 1, len(fused.dense) + 1
    doc_best: dict[str, int] = {}
    doc_count: dict[str, int] = {}
    doc_sum: dict[str, float] = {}
    for position, i in enumerate(ids):
        doc = chunks[i].doc_id
        doc_best.setdefault(doc, position)
        doc_count[doc] = doc_count.get(doc, 0) + 1
        doc_sum[doc] = doc_sum.get(doc, 0.0) + fused.scores[i]
    doc_rank = {doc: r for r, doc in enumerate(sorted(doc_best, key=doc_best.__getitem__), 1)}
    total = sum(doc_sum.values()) or 1.0
    seen_in_doc: dict[str, int] = {}
    named, types = set(fused.named), set(fused.types)

    def cover(tokens: frozenset[str]) -> tuple[float, float]:
        found = [w for t, w in zip(terms, idf, strict=True) if t in tokens]
        return (len(found) / len(terms) if terms else 0.0, sum(found) / idf_total)

    for row, i in enumerate(ids):
        chunk, profile = chunks[i], profiles[i]
        doc = chunk.doc_id
        seen_in_doc[doc] = seen_in_doc.get(doc, 0) + 1
        bm25_rank, bm25_score = fused.bm25.get(i, (absent_bm25, 0.0))
        dense_rank, cos = fused.dense.get(i, (absent_dense, 0.0))
        if chunk.kind == "reference":
            matched = float(chunk.section in named)
        else:
            matched = float(len(named & set(chunk.exception_codes)))
        heading, heading_idf = cover(profile.heading)
        text, text_idf = cover(profile.text)
        own = cover((profile.text | profile.heading) - profile.title)[1]
        matrix[row] = (
            row + 1,
            fused.scores[i] / top,
            fused.scores[i] / (fused.unit or 1.0),
            bm25_rank,
            bm25_score / best_bm25,
            dense_rank,
            cos,
            best_cos - cos if i in fused.dense else 1.0,
            float(chunk.kind == "reference"),
            float("decision" in chunk.heading.lower()),
            profile.depth,
            profile.major,
            profile.spread,
            chunk.part,
            math.log1p(profile.words),
            len(chunk.steps),
            len(named),
            matched,
            len(chunk.exception_codes),
            len(types),
            float(bool(types & set(chunk.message_types))),
            len(terms),
            heading,
            heading_idf,
            cover(profile.path)[0],
            cover(profile.title)[0],
            text,
            text_idf,
            own,
            float("?" in fused.query),
            doc_count[doc],
            doc_rank[doc],
            doc_sum[doc] / total,
            seen_in_doc[doc],
        )
    return ids, matrix


@dataclass
class Reranker:
    """The fitted model (see the module docstring); build one with evals/rerank_fit.py."""

    version: str
    embedder: str  # the embedding model the candidates were scored with
    fusion: dict[str, float]  # the FusionWeights the fused features came from
    kind: str  # "trees" or "linear"
    features: list[str]
    depth: int = DEPTH
    trees: list[dict[str, list[float]]] = field(default_factory=list)
    base: float = 0.0
    mean: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    coef: list[float] = field(default_factory=list)
    intercept: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._forest = Forest(self.trees) if self.kind == "trees" else None

    def score(self, matrix: np.ndarray) -> np.ndarray:
        """A relevance score per row (higher first); only the order within one query matters."""
        if self._forest is not None:
            out: np.ndarray = self.base + self._forest.values(matrix)
            return out
        z = (matrix - np.asarray(self.mean)) / np.asarray(self.scale)
        linear: np.ndarray = z @ np.asarray(self.coef) + self.intercept
        return linear

    def reorder(self, ids: list[int], matrix: np.ndarray, order: list[int]) -> list[int]:
        """``order`` with its first ``len(ids)`` (= ``ids``) sorted by score; ties keep their place."""
        if len(ids) < 2:
            return order
        scores = self.score(matrix)
        ranked = sorted(range(len(ids)), key=lambda r: (-scores[r], r))
        return [ids[r] for r in ranked] + order[len(ids) :]

    def matches(self, embedder: str, weights: FusionWeights) -> bool:
        """Fitted over this embedding model and these fusion weights?"""
        current = asdict(weights)
        return self.embedder == embedder and all(
            k in current and math.isclose(float(current[k]), float(v)) for k, v in self.fusion.items()
        )

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **{k: v for k, v in asdict(self).items()}}

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in self.to_json().items()
        ]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> Reranker:
        source = str(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError(f"unreadable reranker ({exc})", source=source) from exc
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise ValidationError(f"not a {FORMAT} artefact", source=source)
        try:
            model = cls(**data)
        except (TypeError, ValueError, KeyError) as exc:
            raise ValidationError(f"malformed reranker ({exc})", source=source) from exc
        if model.kind not in KINDS:
            raise ValidationError(f"unknown reranker kind {model.kind!r}", source=source)
        if list(model.features) != list(FEATURES):
            raise ValidationError("reranker fitted on other features than this code computes", source=source)
        if not isinstance(model.depth, int) or not 2 <= model.depth <= 100:
            raise ValidationError("reranker depth must be 2-100", source=source)
        n = len(FEATURES)
        if model.kind == "trees":
            if not model.trees:
                raise ValidationError("a trees reranker without trees", source=source)
            for tree in model.trees:
                check_tree(tree, n, source, what="reranker")
        elif not (len(model.mean) == len(model.scale) == len(model.coef) == n) or not all(
            s > 0 for s in model.scale
        ):
            raise ValidationError("reranker arrays disagree in length", source=source)
        return model


def features_version() -> str:
    """A short hash of :data:`FEATURES` (names and order): the registry records what a fit computed."""
    import hashlib

    return hashlib.sha256(",".join(FEATURES).encode()).hexdigest()[:12]


def reranker_path(embedder: str) -> Path:
    """Where the reranker fitted for ``embedder`` lives (one per embedding model)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", embedder).strip("-") or "model"
    return config.data_dir() / "models" / "reranker" / f"{slug}.json"


def challenger_path(embedder: str) -> Path:
    """Where a freshly fitted reranker waits for the gate (never loaded by the search)."""
    path = reranker_path(embedder)
    return path.with_name(path.stem + ".challenger.json")


def reranker_for(embedder: str, weights: FusionWeights, path: Path | None = None) -> Reranker | None:
    """The reranker for this model and fusion weights, or None (the fusion alone ranks).

    A malformed file or one fitted for other weights is logged and not used: search keeps working.
    """
    path = path or reranker_path(embedder)
    if not path.is_file():
        return None
    try:
        model = Reranker.load(path)
    except ValidationError as exc:
        log.warning("reranker not used: %s", exc)
        return None
    if not model.matches(embedder, weights):
        log.warning("reranker %s was fitted for another model or fusion weights; not used", path)
        return None
    return model
