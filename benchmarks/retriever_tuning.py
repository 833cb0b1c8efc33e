"""Choose the retriever's fine-tuning hyper-parameters on the TUNING half only.

Usage: .venv/bin/python benchmarks/retriever_tuning.py [--epochs 4] [--learning-rate 5e-5]
           [--question-repeat 3] [--val-share 3] [--sources question] [--[no-]negatives]
           [--[no-]expand-anchors] [--out var/bench/retriever_tuning.json]

The tuning half of evals/datasets/retrieval.jsonl is split again by a second hash of the question id
into *fit* (about two thirds with ``--val-share 3``) and *val*. A model is trained from the shipped
base on the fit questions' pairs (by default as ``repairdesk model train retriever`` makes them:
the questions as the search embeds them, one hard negative each from the base model's index;
``--sources`` adds the corpus pairs), and after every epoch its dense recall@1/@5 and MRR on the val
questions (expanded as served) are printed. The setting and epoch count with the best val recall@5
(then MRR) are the ones to pass to ``repairdesk model train retriever``. The held-out half is never
read here. docs/retrieval.md has the table that chose the current defaults.

Why per-epoch scores of one run rather than one run per epoch count: a run costs minutes on the
shared 2-core machine; the learning-rate schedule differs slightly (it decays over the longest run),
which we accept and state.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def dense_scores(model: Any, chunks: list[Any], questions: list[dict[str, Any]]) -> dict[str, float]:
    """Dense recall@1/@5 and MRR of ``model`` (a SentenceTransformer) over the chunks, per section.

    Questions are expanded with the jargon lexicon exactly as the served dense query is.
    """
    import numpy as np

    from evals.retrieval_eval import recall_at, reciprocal_rank

    vectors = model.encode([c.embedding_text() for c in chunks], batch_size=64, normalize_embeddings=True)
    from tools.retrieval.synonyms import load_lexicon

    lexicon = load_lexicon()
    asked = model.encode(
        [lexicon.expand(q["question"]).dense_text for q in questions],
        batch_size=64,
        normalize_embeddings=True,
    )
    order = np.argsort(-(asked @ vectors.T), axis=1)
    r1 = r5 = mrr = 0.0
    for row, question in enumerate(questions):
        hits: list[tuple[str, str]] = []
        for i in order[row]:
            pair = (chunks[i].doc_id, chunks[i].section)
            if pair not in hits:
                hits.append(pair)
            if len(hits) == 20:
                break
        gold = [tuple(g) for g in question["gold"]]
        r1 += recall_at(hits, gold, 1)
        r5 += recall_at(hits, gold, 5)
        mrr += reciprocal_rank(hits, gold)
    n = max(1, len(questions))
    return {"recall@1": r1 / n, "recall@5": r5 / n, "mrr": mrr / n}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--question-repeat", type=int, default=3)
    parser.add_argument("--val-share", type=int, default=3)
    parser.add_argument("--method", default="full")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--sources",
        default="question",
        help="comma-separated pair sources to train on (training_data.SOURCES; default: the product's)",
    )
    parser.add_argument(
        "--negatives",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="mine a hard negative per pair from the base model's index (default on)",
    )
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument(
        "--expand-anchors",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train on questions expanded by the jargon lexicon, as the served dense query is (default on)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "retriever_tuning.json")
    args = parser.parse_args()

    from app.cli import retriever_models as rm
    from tools.retrieval import training_data as td
    from tools.retrieval.active_model import index_dir_for
    from tools.retrieval.chunking import chunk_procedure
    from tools.retrieval.embeddings import MODEL_NAME, default_embedder
    from tools.retrieval.finetune import FinetuneConfig, finetune
    from tools.retrieval.index_store import load_corpus

    dirs = rm.corpus_dirs(None)
    tuning, _held_out_unused = rm.split_questions(rm.questions_path(None))
    fit, val = rm.split_by_share(tuning, args.val_share)
    chunks = [c for p in load_corpus(dirs) for c in chunk_procedure(p)]
    labelled = [td.LabelledQuestion(id=q["id"], question=q["question"], gold=q["gold"]) for q in fit]
    if args.expand_anchors:
        from tools.retrieval.synonyms import load_lexicon

        lexicon = load_lexicon()
        labelled = td.as_served(labelled, lambda text: lexicon.expand(text).dense_text)
    sources = sorted({s.strip() for s in args.sources.split(",") if s.strip()})
    pairs = td.corpus_and_question_pairs(
        labelled, chunks, rm._definitions(), question_repeat=args.question_repeat, sources=sources
    )
    if args.negatives:
        ranker = rm.dense_ranker(default_embedder(), index_dir_for(MODEL_NAME), dirs, chunks, pairs)
        pairs = td.mine_negatives(pairs, chunks, ranker)
    print(f"fit {len(fit)} / val {len(val)} tuning questions; {len(pairs)} pairs", flush=True)

    from sentence_transformers import SentenceTransformer

    base = SentenceTransformer(str(rm.base_model_path()), device="cpu")
    rows: list[dict[str, Any]] = [{"epoch": 0, **dense_scores(base, chunks, val)}]
    print(json.dumps(rows[-1]), flush=True)
    del base
    started = time.perf_counter()

    def on_epoch(epoch: int, model: Any) -> None:
        rows.append({"epoch": epoch, "seconds": round(time.perf_counter() - started, 1)})
        rows[-1].update(dense_scores(model, chunks, val))
        print(json.dumps(rows[-1]), flush=True)

    cfg = FinetuneConfig(
        method=args.method,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        threads=args.threads,
        max_seq_length=args.max_seq_length,
    )
    with tempfile.TemporaryDirectory() as tmp:
        finetune(
            rm.base_model_path(),
            pairs,
            Path(tmp) / "model",
            cfg,
            on_epoch=on_epoch,
            log=lambda m: print(m, flush=True),
        )
    best = max(rows[1:], key=lambda r: (r["recall@5"], r["mrr"], -r["epoch"]))
    result = {
        "config": cfg.model_dump()
        | {
            "question_repeat": args.question_repeat,
            "sources": sources,
            "negatives": args.negatives,
            "expand_anchors": args.expand_anchors,
        },
        "val": rows,
        "best": best,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"best epoch on val: {best['epoch']} {best}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
