"""The confidence calibrator: a score (gradient-boosted trees or a logistic regression) mapped through
a calibration curve.

Why this shape: the score ranks proposals by how likely an analyst approves them unchanged (AUROC);
the curve, fitted on out-of-fold scores, makes the number mean what it says (ECE): ``sigmoid``
(Platt: ``1 / (1 + exp(-(a * logit(score) + b)))``, the default, it keeps the ranking) or
``isotonic`` (a step curve through ``iso_x``/``iso_y``). The score is ``trees`` when present
(scikit-learn's histogram gradient boosting, exported node by node: each tree a few arrays of
feature index, threshold, children and leaf value; the raw score is ``base`` plus the leaves
reached), else the standardised logistic regression (``mean``, ``scale``, ``coef``, ``intercept``).
Trees see interactions the linear score cannot (an action that is right under one code family and
wrong under another). All of it is numbers, so the artefact is plain JSON: loading it runs no code
(no pickle), and it is small enough to commit (``corpora/models/confidence-calibrator.json``).

Which artefact serves: ``$REPAIRDESK_DATA_DIR/models/calibrator/active.json`` (``{"version",
"path"}``, written by ``repairdesk model promote|rollback calibrator``) when present, else the
committed one. ``shadow.json`` there names a challenger that runs beside the champion on live
triage (its probability is recorded, never used). Missing features count as 0.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tools import config
from tools.errors import ValidationError

FORMAT = "repairdesk-calibrator/1"
ACTIVE = "active.json"
SHADOW = "shadow.json"


@dataclass
class Calibrator:
    version: str
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    iso_x: list[float]
    iso_y: list[float]
    method: str = "isotonic"  # or "sigmoid"
    platt: list[float] = field(default_factory=lambda: [1.0, 0.0])  # a, b of the sigmoid curve
    meta: dict[str, Any] = field(default_factory=dict)
    # Gradient-boosted trees (when present they are the score): per tree the node arrays
    # feature, threshold, left, right, leaf (1/0), value; x[feature] <= threshold goes left.
    trees: list[dict[str, list[float]]] = field(default_factory=list)
    base: float = 0.0  # the trees' raw score before any tree (log-odds)

    def vector(self, features: dict[str, float]) -> np.ndarray:
        return np.array([float(features.get(name, 0.0) or 0.0) for name in self.features])

    def score(self, matrix: np.ndarray) -> np.ndarray:
        """The score (before calibration) of each row: the trees' when present, else the logistic one."""
        if self.trees:
            logits = self.base + sum(_tree_values(tree, matrix) for tree in self.trees)
        else:
            z = (matrix - np.asarray(self.mean)) / np.asarray(self.scale)
            logits = z @ np.asarray(self.coef) + self.intercept
        out: np.ndarray = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=float)))
        return out

    def calibrate(self, scores: np.ndarray) -> np.ndarray:
        if self.method == "sigmoid":
            clipped = np.clip(scores, 1e-6, 1 - 1e-6)
            a, b = self.platt
            platt: np.ndarray = 1.0 / (1.0 + np.exp(-(a * np.log(clipped / (1 - clipped)) + b)))
            return platt
        out: np.ndarray = np.interp(scores, self.iso_x, self.iso_y)
        return out

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        return self.calibrate(self.score(matrix))

    def probability(self, features: dict[str, float]) -> float:
        return float(self.probabilities(self.vector(features)[None, :])[0])

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        # one top-level key a line, each value compact: the trees' arrays stay small and diffs readable
        lines = [
            f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in self.to_json().items()
        ]
        path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValidationError(f"unreadable calibrator ({exc})", source=str(path)) from exc
        if data.pop("format", None) != FORMAT:
            raise ValidationError(f"not a {FORMAT} artefact", source=str(path))
        try:
            model = cls(**data)
        except TypeError as exc:
            raise ValidationError(f"malformed calibrator ({exc})", source=str(path)) from exc
        n = len(model.features)
        if model.method not in ("sigmoid", "isotonic") or len(model.platt) != 2:
            raise ValidationError(f"unknown calibration {model.method!r}", source=str(path))
        if not (len(model.mean) == len(model.scale) == len(model.coef) == n) or len(model.iso_x) != len(
            model.iso_y
        ):
            raise ValidationError("calibrator arrays disagree in length", source=str(path))
        for tree in model.trees:
            _check_tree(tree, n, str(path))
        return model


TREE_KEYS = ("feature", "threshold", "left", "right", "leaf", "value")


def _check_tree(tree: dict[str, list[float]], features: int, source: str, what: str = "calibrator") -> None:
    """A tree whose arrays agree in length, whose features exist and whose children are later nodes
    (so walking it always ends at a leaf)."""
    if set(tree) != set(TREE_KEYS) or len({len(tree[k]) for k in TREE_KEYS}) != 1 or not tree["leaf"]:
        raise ValidationError(f"malformed {what} tree", source=source)
    for i, leaf in enumerate(tree["leaf"]):
        if leaf:
            continue
        if not 0 <= int(tree["feature"][i]) < features or not all(
            i < int(tree[k][i]) < len(tree["leaf"]) for k in ("left", "right")
        ):
            raise ValidationError(f"malformed {what} tree", source=source)


check_tree = _check_tree  # the same check for other tree artefacts (tools/retrieval/rerank.py)


class Forest:
    """Trees in the node-array form above, packed once into flat arrays (node ``j`` of tree ``t`` is
    ``t * width + j``) so that every tree and every row is walked together: one numpy step per tree
    level instead of one per tree (scoring 20 rows through 100 trees costs tens of microseconds,
    not milliseconds). Same values as summing :func:`_tree_values` over the trees."""

    def __init__(self, trees: list[dict[str, list[float]]]) -> None:
        self.count = len(trees)
        width = max((len(t["leaf"]) for t in trees), default=1)
        size = self.count * width
        self.feature = np.zeros(size, dtype=np.int64)
        self.threshold = np.zeros(size)
        self.left = np.zeros(size, dtype=np.int64)
        self.right = np.zeros(size, dtype=np.int64)
        self.leaf = np.ones(size, dtype=bool)
        self.value = np.zeros(size)
        for t, tree in enumerate(trees):
            start, n = t * width, len(tree["leaf"])
            block = slice(start, start + n)
            self.feature[block] = tree["feature"]
            self.threshold[block] = tree["threshold"]
            self.left[block] = np.asarray(tree["left"], dtype=np.int64) + start
            self.right[block] = np.asarray(tree["right"], dtype=np.int64) + start
            self.leaf[block] = np.asarray(tree["leaf"], dtype=bool)
            self.value[block] = tree["value"]
        self.roots = np.arange(self.count, dtype=np.int64) * width

    def values(self, matrix: np.ndarray) -> np.ndarray:
        """The summed leaf values each row of ``matrix`` reaches (0 for no trees)."""
        rows = len(matrix)
        if not self.count or not rows:
            return np.zeros(rows)
        node = np.repeat(self.roots, rows)  # (tree, row) pairs, tree-major
        row = np.tile(np.arange(rows, dtype=np.int64), self.count)
        flat = np.ascontiguousarray(matrix, dtype=float).ravel()
        width = matrix.shape[1]
        while True:
            going = ~self.leaf[node]
            if not going.any():
                break
            x = flat[row * width + self.feature[node]]
            step = np.where(x <= self.threshold[node], self.left[node], self.right[node])
            node = np.where(going, step, node)
        out: np.ndarray = self.value[node].reshape(self.count, rows).sum(axis=0)
        return out


def _tree_values(tree: dict[str, list[float]], matrix: np.ndarray) -> np.ndarray:
    """The leaf value each row of ``matrix`` reaches in ``tree`` (all rows walked together)."""
    feature = np.asarray(tree["feature"], dtype=int)
    threshold = np.asarray(tree["threshold"], dtype=float)
    left, right = np.asarray(tree["left"], dtype=int), np.asarray(tree["right"], dtype=int)
    leaf = np.asarray(tree["leaf"], dtype=bool)
    node = np.zeros(len(matrix), dtype=int)
    rows = np.arange(len(matrix))
    while not leaf[node].all():
        going = ~leaf[node]
        x = matrix[rows[going], feature[node[going]]]
        node[going] = np.where(x <= threshold[node[going]], left[node[going]], right[node[going]])
    out: np.ndarray = np.asarray(tree["value"], dtype=float)[node]
    return out


def committed_artefact() -> Path:
    return config.corpora_dir() / "models" / "confidence-calibrator.json"


def deploy_dir() -> Path:
    return config.data_dir() / "models" / "calibrator"


def _pointer(name: str) -> Path | None:
    pointer = deploy_dir() / name
    if not pointer.is_file():
        return None
    try:
        return Path(json.loads(pointer.read_text(encoding="utf-8"))["path"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValidationError(
            f"unreadable calibrator pointer ({exc}); run `repairdesk model rollback calibrator`",
            source=str(pointer),
        ) from exc


def set_pointer(name: str, version: str | None, path: Path | None) -> None:
    """Write (or, with ``path`` None, remove) the ``active``/``shadow`` pointer."""
    pointer = deploy_dir() / name
    if path is None:
        pointer.unlink(missing_ok=True)
    else:
        pointer.parent.mkdir(parents=True, exist_ok=True)
        pointer.write_text(json.dumps({"version": version, "path": str(path)}) + "\n", encoding="utf-8")
    _cache.clear()


_cache: dict[tuple[str, str], Calibrator | None] = {}
_lock = threading.Lock()


def _load_cached(path: Path | None) -> Calibrator | None:
    if path is None or not path.is_file():
        return None
    key = (str(path), str(path.stat().st_mtime_ns))
    with _lock:
        if key not in _cache:
            _cache[key] = Calibrator.load(path)
        return _cache[key]


def active_calibrator() -> Calibrator | None:
    """The deployed champion, else the committed artefact, else None (the hand-typed confidence)."""
    return _load_cached(_pointer(ACTIVE) or committed_artefact())


def shadow_calibrator() -> Calibrator | None:
    """The challenger running in shadow mode, if one is set."""
    return _load_cached(_pointer(SHADOW))
