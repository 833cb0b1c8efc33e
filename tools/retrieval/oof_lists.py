"""Out-of-fold dense candidate lists saved with a trained retriever.

Contract: :func:`write_dense_lists` writes, beside a model's files (:data:`OOF_FILE`), each tuning
question's dense top :data:`OOF_DEPTH` chunk ids and cosines from a model that was not trained on
that question (app/cli/retriever_fusion.py makes them while choosing the fusion weights);
:func:`read_dense_lists` reads them back, or None when there are none or they are not in
:data:`OOF_FORMAT`. The re-ranker is fitted on candidates fused from these lists
(evals/rerank_fit.py ``collect``): the served model ranks the questions it was trained on too well
for the re-ranker to learn how far to trust it on new ones.
"""

from __future__ import annotations

import json
from pathlib import Path

OOF_FILE = "oof_dense.json"
OOF_FORMAT = "repairdesk-oof-dense/1"
OOF_DEPTH = 60  # what the re-ranker's candidates are fused from (evals/rerank_fit.py collect)
DenseLists = dict[str, tuple[list[str], list[float]]]  # question id -> (chunk ids, cosines)


def write_dense_lists(folder: Path, lists: DenseLists, folds: int) -> Path:
    """Write the out-of-fold dense lists beside a model's files (:data:`OOF_FILE`)."""
    path = folder / OOF_FILE
    payload = {
        "format": OOF_FORMAT,
        "depth": OOF_DEPTH,
        "folds": folds,
        "lists": {qid: {"chunk_ids": ids, "scores": scores} for qid, (ids, scores) in sorted(lists.items())},
    }
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def read_dense_lists(folder: Path) -> DenseLists | None:
    """The out-of-fold dense lists saved with a model, or None (none saved, or not in this format)."""
    path = folder / OOF_FILE
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("format") != OOF_FORMAT:
            return None
        return {
            qid: ([str(i) for i in row["chunk_ids"]], [float(v) for v in row["scores"]])
            for qid, row in payload["lists"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
