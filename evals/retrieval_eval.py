"""Retrieval metrics: recall@k, MRR, nDCG@k and doc-level recall@k for BM25, dense and hybrid.

Contract:

- Dataset lines (``evals/datasets/retrieval.jsonl``): ``{"id", "question", "gold": [{"doc_id",
  "section"}, ...], "code": optional filter}``; ``query`` is accepted for ``question``, and
  ``doc_id`` with ``section`` or ``sections`` for ``gold``. A malformed line raises
  :class:`tools.errors.ValidationError` naming the line.
- A hit is *correct* when its doc_id equals a gold pair's and its section equals the gold section or
  lies inside it (gold "3" accepts a hit in "3.2"; gold "3.2" does not accept "3").
- recall@k: 1 when a correct hit is among the first k (the share of questions answered in the top k);
  MRR: 1/rank of the first correct hit (0 when none in the list); nDCG@k: binary relevance, each gold
  pair counted once (the first hit inside it), ideal DCG from min(len(gold), k) relevant hits;
  doc_recall@k: 1 when a hit's doc_id is a gold doc_id in the first k.
- :func:`evaluate` runs every mode on every question and returns ``{"questions", "modes": {mode:
  {metric: mean}}, "splits": {"tuning"|"held-out": {"questions", "modes"}}, "rows": [{"id",
  "question", "gold", "split", "modes": {mode: {"metrics", "hits"}}}]}``.
- :func:`split_of`: the deterministic half a question id belongs to (sha256 of the id, even:
  ``tuning``, odd: ``held-out``). Weights and the synonym table are tuned on the tuning half only;
  the held-out half says how well that generalises.

The metric functions are pure (lists in, float out) so they are unit-tested on hand-computed cases.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from evals.progress import track
from tools.errors import ValidationError

Pair = tuple[str, str]  # (doc_id, section)
MODES: tuple[str, ...] = ("bm25", "dense", "hybrid")
DEPTH = 10  # hits fetched per question: MRR looks this deep
SPLITS: tuple[str, ...] = ("tuning", "held-out")


class _Hit(Protocol):
    doc_id: str
    section: str


class _Search(Protocol):
    def search(
        self, query: str, *, code: str | None = ..., k: int = ..., mode: Any = ...
    ) -> Sequence[_Hit]: ...


def section_matches(hit_section: str, gold_section: str) -> bool:
    """True when the hit's section is the gold section or a sub-section of it."""
    return hit_section == gold_section or hit_section.startswith(gold_section + ".")


def matched_gold(hit: Pair, gold: Sequence[Pair]) -> int | None:
    """Index of the gold pair the hit falls in, or None."""
    for i, (doc_id, section) in enumerate(gold):
        if hit[0] == doc_id and section_matches(hit[1], section):
            return i
    return None


def relevance(hits: Sequence[Pair], gold: Sequence[Pair]) -> list[int]:
    """1/0 per hit; a gold pair already credited to an earlier hit gives 0 (no double counting)."""
    credited: set[int] = set()
    out: list[int] = []
    for hit in hits:
        index = matched_gold(hit, gold)
        if index is None or index in credited:
            out.append(0)
        else:
            credited.add(index)
            out.append(1)
    return out


def recall_at(hits: Sequence[Pair], gold: Sequence[Pair], k: int) -> float:
    return 1.0 if any(matched_gold(h, gold) is not None for h in hits[:k]) else 0.0


def doc_recall_at(hits: Sequence[Pair], gold: Sequence[Pair], k: int) -> float:
    docs = {doc_id for doc_id, _ in gold}
    return 1.0 if any(doc_id in docs for doc_id, _ in hits[:k]) else 0.0


def reciprocal_rank(hits: Sequence[Pair], gold: Sequence[Pair]) -> float:
    for rank, hit in enumerate(hits, 1):
        if matched_gold(hit, gold) is not None:
            return 1.0 / rank
    return 0.0


def ndcg_at(hits: Sequence[Pair], gold: Sequence[Pair], k: int) -> float:
    if not gold:
        return 0.0
    gains = relevance(hits[:k], gold)
    dcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, 1))
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return dcg / ideal


def question_metrics(hits: Sequence[Pair], gold: Sequence[Pair], ks: Iterable[int]) -> dict[str, float]:
    ks = tuple(ks)
    metrics: dict[str, float] = {}
    for k in ks:
        metrics[f"recall@{k}"] = recall_at(hits, gold, k)
    metrics["mrr"] = reciprocal_rank(hits, gold)
    metrics[f"ndcg@{max(ks)}"] = ndcg_at(hits, gold, max(ks))
    for k in ks:
        metrics[f"doc_recall@{k}"] = doc_recall_at(hits, gold, k)
    return metrics


def split_of(question_id: str) -> str:
    """``tuning`` or ``held-out``, fixed by the id alone (see the module docstring)."""
    return "tuning" if hashlib.sha256(question_id.encode()).digest()[-1] % 2 == 0 else "held-out"


def load_questions(path: Path) -> list[dict[str, Any]]:
    """The dataset's questions, normalised to ``{"id", "question", "gold": [(doc_id, section)], "code"}``."""
    questions: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValidationError(f"cannot read dataset: {exc}", source=str(path)) from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not JSON: {exc}", source=where) from exc
        if not isinstance(row, dict):
            raise ValidationError("a line must be a JSON object", source=where)
        question = row.get("question", row.get("query"))
        if not isinstance(question, str) or not question.strip():
            raise ValidationError("no question text", source=where)
        gold = _gold_pairs(row, where)
        questions.append(
            {"id": str(row.get("id", number)), "question": question, "gold": gold, "code": row.get("code")}
        )
    return questions


def _gold_pairs(row: dict[str, Any], where: str) -> list[Pair]:
    if isinstance(row.get("gold"), list):
        pairs = []
        for item in row["gold"]:
            if not isinstance(item, dict) or "doc_id" not in item or "section" not in item:
                raise ValidationError("each gold entry needs doc_id and section", source=where)
            pairs.append((str(item["doc_id"]), str(item["section"])))
    elif "doc_id" in row:
        sections = row.get("sections", [row.get("section")] if "section" in row else [])
        pairs = [(str(row["doc_id"]), str(s)) for s in sections]
    else:
        raise ValidationError("no gold: give gold [{doc_id, section}] or doc_id and section", source=where)
    if not pairs:
        raise ValidationError("empty gold list", source=where)
    return pairs


def evaluate(
    dataset_path: Path | str,
    search: _Search,
    ks: Sequence[int] = (1, 5),
    *,
    modes: Sequence[str] = MODES,
    use_code_filter: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Run each mode on every question of the dataset (see the module docstring for the result).

    ``use_code_filter`` passes a question's ``code`` as the search filter; off by default because
    the analyst questions are typed without one. ``progress`` draws a bar on stderr.
    """
    questions = load_questions(Path(dataset_path))
    depth = max(DEPTH, *ks)
    rows: list[dict[str, Any]] = []
    totals: dict[str, dict[str, float]] = {mode: {} for mode in modes}
    for question in track(questions, "retrieval", enabled=progress):
        row: dict[str, Any] = {
            "id": question["id"],
            "question": question["question"],
            "gold": [{"doc_id": d, "section": s} for d, s in question["gold"]],
            "split": split_of(question["id"]),
            "modes": {},
        }
        for mode in modes:
            code = question["code"] if use_code_filter else None
            found = search.search(question["question"], code=code, k=depth, mode=mode)
            hits = [(h.doc_id, h.section) for h in found]
            metrics = question_metrics(hits, question["gold"], ks)
            row["modes"][mode] = {"metrics": metrics, "hits": [f"{d}#{s}" for d, s in hits[: max(ks)]]}
            for name, value in metrics.items():
                totals[mode][name] = totals[mode].get(name, 0.0) + value
        rows.append(row)
    count = len(questions)
    summary = {
        mode: {name: value / count for name, value in values.items()} for mode, values in totals.items()
    }
    splits = {name: _summary([r for r in rows if r["split"] == name], modes) for name in SPLITS}
    return {"questions": count, "ks": list(ks), "modes": summary, "splits": splits, "rows": rows}


def _summary(rows: Sequence[dict[str, Any]], modes: Sequence[str]) -> dict[str, Any]:
    out: dict[str, dict[str, float]] = {}
    for mode in modes:
        names = rows[0]["modes"][mode]["metrics"] if rows else {}
        out[mode] = {n: sum(r["modes"][mode]["metrics"][n] for r in rows) / len(rows) for n in names}
    return {"questions": len(rows), "modes": out}


def format_table(result: dict[str, Any]) -> str:
    """recall@1, recall@5, MRR, nDCG@5 and doc recall@5 per mode, for all questions and each split."""
    lines = ["set | questions | mode | recall@1 | recall@5 | MRR | nDCG@5 | doc recall@5"]
    parts = [("all", {"questions": result["questions"], "modes": result["modes"]})]
    parts += list(result["splits"].items())
    for name, part in parts:
        for mode, m in part["modes"].items():
            values = (m["recall@1"], m["recall@5"], m["mrr"], m["ndcg@5"], m["doc_recall@5"])
            cells = " | ".join(f"{v:.3f}" for v in values)
            lines.append(f"{name} | {part['questions']} | {mode} | {cells}")
    return "\n".join(lines)


GATE_MODES: tuple[str, ...] = ("dense", "hybrid")
GATE_NO_LOSS: tuple[str, ...] = ("recall@5",)
GATE_GAIN: tuple[str, ...] = ("recall@1", "mrr")


def model_gate(
    champion: dict[str, Any], challenger: dict[str, Any], *, split: str = "held-out", seed: int = 0
) -> dict[str, Any]:
    """Champion against challenger on the same questions of ``split``, paired per question.

    Both arguments are :func:`evaluate` results over the same dataset. The challenger passes when it
    loses nothing on recall@5 (mean paired difference >= 0, dense and hybrid alike) and gains on
    recall@1 or MRR (the lower end of the paired bootstrap 95% interval above 0, dense or hybrid).
    Returns ``{"passed", "split", "questions", "comparisons": {"<mode>.<metric>": {"champion",
    "challenger", "diff", "ci95"}}, "reasons": [...]}``.
    """
    from evals.stats import paired_bootstrap

    a = {r["id"]: r for r in champion["rows"] if r["split"] == split}
    b = {r["id"]: r for r in challenger["rows"] if r["split"] == split}
    if set(a) != set(b) or not a:
        raise ValidationError(
            f"champion and challenger were scored on different {split} questions", source="gate"
        )
    ids = sorted(a)
    comparisons: dict[str, dict[str, Any]] = {}
    for mode in GATE_MODES:
        for metric in (*GATE_NO_LOSS, *GATE_GAIN):
            old = [a[i]["modes"][mode]["metrics"][metric] for i in ids]
            new = [b[i]["modes"][mode]["metrics"][metric] for i in ids]
            estimate = paired_bootstrap(old, new, seed=seed)
            comparisons[f"{mode}.{metric}"] = {
                "champion": sum(old) / len(old),
                "challenger": sum(new) / len(new),
                "diff": estimate.value,
                "ci95": [estimate.ci95[0], estimate.ci95[1]],
            }
    reasons: list[str] = []
    for mode in GATE_MODES:
        for metric in GATE_NO_LOSS:
            diff = comparisons[f"{mode}.{metric}"]["diff"]
            if diff < -1e-12:
                reasons.append(f"{mode} {metric} drops by {-diff:.3f}")
    gains = [
        key
        for key, value in comparisons.items()
        if key.split(".", 1)[1] in GATE_GAIN and value["ci95"][0] > 0
    ]
    if not gains:
        reasons.append("no significant gain on recall@1 or MRR (every paired 95% interval reaches 0)")
    return {
        "passed": not reasons,
        "split": split,
        "questions": len(ids),
        "comparisons": comparisons,
        "gains": gains,
        "reasons": reasons,
    }


def format_gate(gate: dict[str, Any]) -> str:
    lines = [f"gate on {gate['questions']} {gate['split']} questions (paired bootstrap 95%)"]
    lines.append("metric | champion | challenger | diff | ci95")
    for key, v in gate["comparisons"].items():
        low, high = v["ci95"]
        interval = f"[{low:+.3f}, {high:+.3f}]"
        lines.append(f"{key} | {v['champion']:.3f} | {v['challenger']:.3f} | {v['diff']:+.3f} | {interval}")
    lines.append("PASS" if gate["passed"] else "FAIL: " + "; ".join(gate["reasons"]))
    return "\n".join(lines)


# Dense up to 3x BM25: the shipped model is best at 0.3, but a model fine-tuned on the bank's own
# questions can be the better of the two lists, and a grid that stops at 1.3 could not say so.
FUSION_GRID: dict[str, tuple[float, ...]] = {
    "rrf_k": (5, 10, 20),
    "dense": (0.3, 0.5, 0.7, 1.0, 1.3, 2.0, 3.0),
}


def tune_fusion(
    search: Any, questions: Sequence[dict[str, Any]], grid: dict[str, tuple[float, ...]] | None = None
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Grid-search fusion weights on ``questions`` (pass the tuning half only); best hybrid recall@5,
    then MRR, then recall@1. ``search`` is a ProcedureSearch whose ``weights`` are set per point;
    give it a :class:`MemoEmbedder` so that each question is embedded once for the whole grid."""
    import dataclasses
    import itertools

    grid = grid or FUSION_GRID
    original = search.weights
    # a re-ranker is fitted over one set of fusion weights: the grid judges the fusion alone
    reranker = getattr(search, "reranker", None)
    search.reranker = None
    table: list[dict[str, Any]] = []
    try:
        for values in itertools.product(*grid.values()):
            point = dict(zip(grid, values, strict=True))
            cast = {k: type(getattr(original, k))(v) for k, v in point.items()}
            search.weights = dataclasses.replace(original, **cast)
            sums = {"recall@1": 0.0, "recall@5": 0.0, "mrr": 0.0}
            for q in questions:
                found = search.search(q["question"], k=DEPTH, mode="hybrid")
                hits = [(h.doc_id, h.section) for h in found]
                sums["recall@1"] += recall_at(hits, q["gold"], 1)
                sums["recall@5"] += recall_at(hits, q["gold"], 5)
                sums["mrr"] += reciprocal_rank(hits, q["gold"])
            n = max(len(questions), 1)
            table.append({**point, **{k: v / n for k, v in sums.items()}})
    finally:
        search.weights = original
        search.reranker = reranker
    return best_fusion_point(table, grid), table


def best_fusion_point(
    table: Sequence[dict[str, Any]], grid: dict[str, tuple[float, ...]] | None = None
) -> dict[str, float]:
    """The grid point of ``table`` with the best hybrid recall@5, then MRR, then recall@1."""
    best = max(table, key=lambda r: (round(r["recall@5"], 6), round(r["mrr"], 6), round(r["recall@1"], 6)))
    return {k: float(best[k]) for k in grid or FUSION_GRID}


class MemoEmbedder:
    """An embedder that remembers the vectors of texts it has embedded (grid search re-asks)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._seen: dict[str, Any] = {}

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
        import numpy as np

        missing = [t for t in texts if t not in self._seen]
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing, batch_size=batch_size), strict=True):
                self._seen[text] = vector
        return np.stack([self._seen[t] for t in texts]) if texts else self.inner.embed(texts)


def main() -> int:
    """``python -m evals.retrieval_eval``: the table over the shipped corpus's index (built if needed)."""
    import sys

    from tools.config import REPO_ROOT
    from tools.retrieval.index_store import build_index
    from tools.retrieval.procedures import default_corpus_dirs
    from tools.retrieval.search import ProcedureSearch

    report = build_index([d for d in default_corpus_dirs() if d.is_dir()])
    result = evaluate(
        REPO_ROOT / "evals" / "datasets" / "retrieval.jsonl", ProcedureSearch.load(report.index_dir)
    )
    sys.stdout.write(format_table(result) + "\n")
    return 0


if __name__ == "__main__":
    from app.settings import Settings, configure_process

    configure_process(Settings())  # a script's start-up: the environment, read once
    raise SystemExit(main())
