"""Retrieval suite: recall@1, recall@5, MRR and nDCG@5 for BM25 alone, dense alone and hybrid.

One run measures the three retrievers on the same questions, so their intervals and the paired
differences compare like with like. Metric names: ``retrieval.<mode>.<metric>``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from evals import datasets
from evals.base import SuiteOptions, SuiteResult
from evals.progress import status
from evals.retrieval_eval import evaluate


def run(options: SuiteOptions) -> SuiteResult:
    from tools.retrieval.search import open_search

    rows, entry = datasets.load("retrieval")
    if options.limit:
        rows = rows[: options.limit]
    with status("retrieval: loading the index and the embedding model", enabled=options.progress):
        search = open_search()
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "retrieval.jsonl"
        subset.write_text("".join(json.dumps(row) + "\n" for row in rows))
        result = evaluate(subset, search, ks=(1, 5), progress=options.progress)
    samples = []
    for row in result["rows"]:
        metrics = {
            f"{mode}.{name}": value
            for mode, data in row["modes"].items()
            for name, value in data["metrics"].items()
        }
        samples.append(
            {
                "id": row["id"],
                "question": row["question"],
                "gold": row["gold"],
                "hybrid_hits": row["modes"].get("hybrid", {}).get("hits", []),
                "metrics": metrics,
            }
        )
    return SuiteResult("retrieval", samples, datasets={"retrieval": entry})
