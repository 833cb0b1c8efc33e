"""Okapi BM25 over an inverted index held in numpy arrays.

Contract: ``BM25Index(token_lists)`` indexes documents 0..n-1; ``search(tokens, top_n, allowed)``
returns ``(ids, scores)`` of at most ``top_n`` documents with a positive score, best first, limited to
``allowed`` (a boolean mask) when given. Scoring touches only the postings of the query's terms, so a
query costs the same on 2,000 or 200,000 chunks up to the length of those postings (rank-bm25 scores
every document on every query, too slow at 200k). A query word that is not in the vocabulary
(a typo: "benficiary") is replaced by the closest vocabulary word within one or two edits.

:meth:`BM25Index.cached` keeps the built arrays beside the search index (``bm25-<key>/*.npy``,
memory-mapped when read back), keyed by the texts, the parameters and this module's and the
tokenizer's source, so a command that searches once does not tokenize the whole corpus first; a
folder it cannot write to only means building in memory, as before.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

if TYPE_CHECKING:
    from numpy.typing import NDArray


class BM25Index:
    def __init__(self, token_lists: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(token_lists)
        lengths = np.array([len(t) for t in token_lists], dtype=np.float32)
        avg = float(lengths.mean()) if self.size else 1.0
        norm = k1 * (1.0 - b + b * lengths / max(avg, 1e-9))
        postings: dict[str, list[tuple[int, int]]] = {}
        for doc, tokens in enumerate(token_lists):
            for term, tf in Counter(tokens).items():
                postings.setdefault(term, []).append((doc, tf))
        self.vocabulary: dict[str, int] = {}
        offsets = [0]
        doc_ids: list[int] = []
        weights: list[float] = []
        for term_id, (term, plist) in enumerate(sorted(postings.items())):
            self.vocabulary[term] = term_id
            # The "+1" variant of idf (Lucene's) stays positive for terms in over half of the chunks.
            idf = math.log(1.0 + (self.size - len(plist) + 0.5) / (len(plist) + 0.5))
            for doc, tf in plist:
                doc_ids.append(doc)
                weights.append(idf * tf * (k1 + 1.0) / (tf + float(norm[doc])))
            offsets.append(len(doc_ids))
        self._offsets = np.array(offsets, dtype=np.int64)
        self._docs = np.array(doc_ids, dtype=np.int64)
        self._weights = np.array(weights, dtype=np.float32)
        self._terms = list(self.vocabulary)

    _ARRAYS = ("offsets", "docs", "weights", "terms")

    @classmethod
    def cached(
        cls,
        folder: Path,
        texts: Sequence[str],
        tokenize: Callable[[str], Sequence[str]],
        *,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> BM25Index:
        """The index of ``texts`` (tokenized by ``tokenize``), read from ``folder`` when it was built
        there before with the same inputs, else built and written there (see the module docstring)."""
        digest = hashlib.sha256(f"{k1}|{b}|{len(texts)}".encode())
        tokenizer_file = getattr(sys.modules.get(getattr(tokenize, "__module__", "")), "__file__", None)
        for module in (__file__, tokenizer_file):
            if module and Path(module).is_file():
                digest.update(Path(module).read_bytes())
        for text in texts:
            digest.update(text.encode("utf-8", "surrogatepass") + b"\x00")
        target = folder / f"bm25-{digest.hexdigest()[:24]}"
        loaded = cls._read(target, len(texts))
        if loaded is not None:
            return loaded
        built = cls([tokenize(text) for text in texts], k1=k1, b=b)
        built._write(target)
        return built

    @classmethod
    def _read(cls, target: Path, size: int) -> BM25Index | None:
        try:
            arrays = {name: np.load(target / f"{name}.npy", mmap_mode="r") for name in cls._ARRAYS}
        except (OSError, ValueError):
            return None
        index = cls.__new__(cls)
        index.size = size
        index._terms = [str(t) for t in arrays["terms"].tolist()]
        index.vocabulary = {term: term_id for term_id, term in enumerate(index._terms)}
        index._offsets, index._docs, index._weights = arrays["offsets"], arrays["docs"], arrays["weights"]
        if len(index._offsets) != len(index._terms) + 1:
            return None
        return index

    def _write(self, target: Path) -> None:
        """Written to a private folder, then renamed into place: a reader never sees half a cache."""
        staging = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            staging.mkdir(parents=True)
            terms = np.array(self._terms, dtype=str) if self._terms else np.zeros(0, dtype="<U1")
            arrays: dict[str, NDArray[Any]] = {
                "offsets": self._offsets,
                "docs": self._docs,
                "weights": self._weights,
                "terms": terms,
            }
            for name, array in arrays.items():
                np.save(staging / f"{name}.npy", array)
            os.rename(staging, target)
        except OSError:  # read-only, full, or another process got there first: the memory copy serves
            shutil.rmtree(staging, ignore_errors=True)
            return
        for old in target.parent.glob("bm25-*"):  # caches of earlier corpora
            if old != target and not old.name.endswith(".tmp"):
                shutil.rmtree(old, ignore_errors=True)

    def resolve(self, token: str) -> str | None:
        """The vocabulary word for a query token: itself, a near spelling, or None."""
        if token in self.vocabulary:
            return token
        if len(token) < 5 or any(c.isdigit() for c in token) or not self._terms:
            return None
        max_edits = 1 if len(token) < 8 else 2
        match = process.extractOne(token, self._terms, scorer=Levenshtein.distance, score_cutoff=max_edits)
        return str(match[0]) if match else None

    def idf(self, token: str) -> float:
        """The idf of a vocabulary word (0 for a word not in the vocabulary: no typo search)."""
        term_id = self.vocabulary.get(token)
        if term_id is None:
            return 0.0
        df = int(self._offsets[term_id + 1] - self._offsets[term_id])
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, tokens: Sequence[str], extra: Mapping[str, float] | None = None) -> NDArray[np.float32]:
        """BM25 score of every document for the query ``tokens`` (zeros where no term matches).

        ``extra`` adds weighted terms (synonyms from query expansion): a term of weight w counts as w
        occurrences in the query. They are matched exactly, without typo tolerance.
        """
        out = np.zeros(self.size, dtype=np.float32)
        weighted: list[tuple[str | None, float]] = [(self.resolve(t), c) for t, c in Counter(tokens).items()]
        weighted += [(t if t in self.vocabulary else None, w) for t, w in (extra or {}).items()]
        for term, count in weighted:
            if term is None:
                continue
            term_id = self.vocabulary[term]
            start, end = self._offsets[term_id], self._offsets[term_id + 1]
            out[self._docs[start:end]] += count * self._weights[start:end]
        return out

    def search(
        self,
        tokens: Sequence[str],
        top_n: int,
        allowed: NDArray[np.bool_] | None = None,
        extra: Mapping[str, float] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        scores = self.scores(tokens, extra)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0).astype(np.float32)
        candidates = np.flatnonzero(scores > 0)
        if candidates.size > top_n:
            candidates = candidates[np.argpartition(-scores[candidates], top_n - 1)[:top_n]]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return order.astype(np.int64), scores[order]
