"""Retriever training benchmark: full fine-tune against LoRA, and the distilled int8 student.

Usage: .venv/bin/python benchmarks/retrieval_models.py [--methods full,lora] [--student]
           [--student-select [--val-share 3] [--select-layers 5,6] [--select-epochs 1,2,3]]
           [--teacher DIR] [--epochs 1] [--fusion-folds 4 | --fusion-share 4]
           [--out var/bench/retrieval_models.json]

1. Each method of ``--methods`` runs the product's own path (``repairdesk model train retriever``:
   app/cli/retriever_models.py) in a fresh data directory with its own MLflow store: training wall
   and CPU seconds, trainable parameters, and BM25/dense/hybrid metrics on the held-out half (never
   used for training or choosing anything).
2. ``--student``: distils the teacher (``--teacher``, else the full fine-tune of step 1) into a
   student with fewer layers and int8 weights (tools/retrieval/student.py), trained on the corpus
   chunks and the tuning questions only; then teacher and student each embed every corpus chunk
   (CPU seconds, same thread count, same batch size) and answer the held-out questions. Prints size
   (MB on disk), encode speed-up, and the share of the teacher's dense recall@5 kept, against the
   floors: >= 98% of recall@5, >= 2x encode speed, <= 25 MB.

3. ``--student-select`` (with ``--teacher``: one trained without the val questions, ``repairdesk
   model train retriever --fusion-share 3 --no-fusion`` in its own data directory): the student's
   layers and epochs chosen inside the tuning half, fit/val split as benchmarks/retriever_tuning.py
   splits it; each candidate distilled on the corpus and the fit questions, scored on the val
   questions; the rule is :func:`choose_student` (the held-out half is never read).

On a shared machine the wall clock counts the neighbours: CPU seconds are the figures to compare,
and the load average is printed with them.
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

FLOORS = {"recall_kept": 0.98, "speedup": 2.0, "max_mb": 25.0}


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def train_method(method: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from app.cli.retriever_models import TrainOptions, model_folder, train
    from app.settings import Settings, configure_process
    from tools.registry import ModelRegistry

    os.environ["REPAIRDESK_DATA_DIR"] = str(work / method)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    # tools/ read the data directory from the installed settings, not the environment: without
    # this, every method trained into (and registered in) the checkout's own var/.
    configure_process(Settings())
    lr = args.lora_lr if method == "lora" else args.lr
    options = TrainOptions(
        method=method,
        epochs=args.epochs,
        learning_rate=lr,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        question_repeat=args.question_repeat,
        fusion_share=args.fusion_share,
        fusion_folds=args.fusion_folds,
        sources=[part.strip() for part in args.sources.split(",") if part.strip()],
    )
    started_load = load()
    result = train(options, log=lambda m: print(f"  [{method}] {m}", flush=True))
    registry = ModelRegistry()
    return {
        "method": method,
        "learning_rate": lr,
        "load_before": started_load,
        "load_after": load(),
        "training": result.training,
        "total_seconds": result.seconds,
        "held_out": result.held_out,
        "fusion": result.fusion,
        "model_dir": str(model_folder(registry, result.version)),
        "dataset_hash": result.dataset["hash"],
    }


def encode_cost(embedder: Any, texts: list[str]) -> dict[str, float]:
    embedder.embed(texts[:8])  # warm-up
    started, started_cpu = time.perf_counter(), time.process_time()
    embedder.embed(texts, batch_size=32)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - started_cpu}


def dense_held_out(embedder: Any, work: Path, label: str) -> dict[str, float]:
    from evals.retrieval_eval import evaluate
    from tools.retrieval.index_store import build_index
    from tools.retrieval.procedures import default_corpus_dirs
    from tools.retrieval.search import ProcedureSearch

    dirs = [d for d in default_corpus_dirs() if d.is_dir()]
    report = build_index(dirs, work / f"index-{label}", embedder=embedder, use_cache=False)
    search = ProcedureSearch.load(report.index_dir, embedder=embedder)
    result = evaluate(ROOT / "evals" / "datasets" / "retrieval.jsonl", search, modes=("dense", "hybrid"))
    return {
        f"{m}.{k}": v for m, vals in result["splits"]["held-out"]["modes"].items() for k, v in vals.items()
    }


def student_texts(chunks: list[Any], questions: list[dict[str, Any]]) -> list[str]:
    """What the student is distilled on: every corpus chunk, the questions given, the chunk headings."""
    texts = [c.embedding_text() for c in chunks] + [q["question"] for q in questions]
    texts += [f"{c.title}: {c.heading}" for c in chunks if c.heading]
    return texts


def corpus_chunks() -> list[Any]:
    from tools.retrieval.chunking import chunk_procedure
    from tools.retrieval.index_store import load_corpus
    from tools.retrieval.procedures import default_corpus_dirs

    dirs = [d for d in default_corpus_dirs() if d.is_dir()]
    return [c for p in load_corpus(dirs) for c in chunk_procedure(p)]


def student_bench(teacher_dir: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from app.cli.retriever_models import split_questions
    from tools.retrieval.embeddings import load_embedder
    from tools.retrieval.student import StudentConfig, distill, folder_size, load_student

    chunks = corpus_chunks()
    tuning, _held = split_questions(ROOT / "evals" / "datasets" / "retrieval.jsonl")
    texts = student_texts(chunks, tuning)
    out = work / "student"
    cfg = StudentConfig(layers=args.student_layers, epochs=args.student_epochs)
    report = distill(teacher_dir, texts, out, cfg, log=lambda m: print(f"  [student] {m}", flush=True))
    teacher = load_embedder(str(teacher_dir), "teacher")
    student = load_student(out, "student")
    corpus_texts = [c.embedding_text() for c in chunks]
    teacher_cost = encode_cost(teacher, corpus_texts)
    student_cost = encode_cost(student, corpus_texts)
    teacher_metrics = dense_held_out(teacher, work, "teacher")
    student_metrics = dense_held_out(student, work, "student")
    size_mb = folder_size(out) / 1e6
    kept = student_metrics["dense.recall@5"] / max(teacher_metrics["dense.recall@5"], 1e-9)
    speedup = teacher_cost["cpu_seconds"] / max(student_cost["cpu_seconds"], 1e-9)
    return {
        "distill": report.model_dump(),
        "teacher_mb": folder_size(teacher_dir) / 1e6,
        "student_mb": size_mb,
        "teacher_encode": teacher_cost,
        "student_encode": student_cost,
        "encode_speedup_cpu": speedup,
        "teacher": teacher_metrics,
        "student": student_metrics,
        "recall5_kept": kept,
        "floors_met": {
            "recall_kept": kept >= FLOORS["recall_kept"],
            "speedup": speedup >= FLOORS["speedup"],
            "size": size_mb <= FLOORS["max_mb"],
        },
        "load": load(),
    }


def selection_split(
    tuning: list[dict[str, Any]], share: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(fit, val) of the TUNING questions: val is about 1/``share`` of them, fixed by the id.

    The same hash as ``repairdesk model train retriever --fusion-share N`` keeps out of training
    (and as benchmarks/retriever_tuning.py ``--val-share N``), so a teacher trained with
    ``--fusion-share N --no-fusion`` has never seen the val questions either.
    """
    from app.cli.retriever_models import split_by_share

    if share < 2:
        raise ValueError("share must be >= 2")
    return split_by_share(tuning, share)


def dense_on(embedder: Any, work: Path, label: str, questions: list[dict[str, Any]]) -> dict[str, float]:
    """Dense recall@1/@5 and MRR of ``embedder`` on ``questions`` only, through the served search.

    The search's own dense mode (its own index of the corpus, the query expanded as served), scored
    per question as evals/retrieval_eval.py ``evaluate`` does, but on the questions given instead of
    a whole dataset file: the held-out half is neither read nor scored here.
    """
    from evals.retrieval_eval import DEPTH, question_metrics
    from tools.retrieval.index_store import build_index
    from tools.retrieval.procedures import default_corpus_dirs
    from tools.retrieval.search import ProcedureSearch

    dirs = [d for d in default_corpus_dirs() if d.is_dir()]
    report = build_index(dirs, work / f"index-{label}", embedder=embedder, use_cache=False)
    search = ProcedureSearch.load(report.index_dir, embedder=embedder)
    totals: dict[str, float] = {}
    for question in questions:
        hits = [(h.doc_id, h.section) for h in search.search(question["question"], k=DEPTH, mode="dense")]
        for name, value in question_metrics(hits, question["gold"], (1, 5)).items():
            totals[name] = totals.get(name, 0.0) + value
    n = max(1, len(questions))
    return {name: totals.get(name, 0.0) / n for name in ("recall@1", "recall@5", "mrr")}


def choose_student(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The selection rule, fixed before the selection run (docs/retrieval.md):

    1. eligible: size <= 25 MB and encode >= 2x cheaper than the teacher (CPU seconds, the corpus);
    2. among those, the highest share of the teacher's val dense recall@5 kept, then the highest
       share of its val MRR kept, then fewer layers, then fewer epochs.

    None when no candidate is eligible.
    """
    eligible = [r for r in rows if r["size_mb"] <= FLOORS["max_mb"] and r["speedup"] >= FLOORS["speedup"]]
    if not eligible:
        return None
    return max(eligible, key=lambda r: (r["recall5_kept"], r["mrr_kept"], -r["layers"], -r["epochs"]))


def _tagged(label: str) -> Any:
    return lambda m: print(f"  [{label}] {m}", flush=True)


def student_select(teacher_dir: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Choose the student's layers and epochs inside the tuning half (never the held-out half).

    The tuning questions are split into fit and val (:func:`selection_split`); each candidate is
    distilled from ``teacher_dir`` on the corpus and the FIT questions only, and scored on the val
    questions against the same teacher by dense recall@5 and MRR (:func:`dense_on`). ``teacher_dir``
    should itself be trained without the val questions (``repairdesk model train retriever
    --fusion-share N --no-fusion`` in its own data directory). The rule is :func:`choose_student`.
    """
    import shutil

    from app.cli.retriever_models import split_questions
    from tools.retrieval.embeddings import load_embedder
    from tools.retrieval.student import StudentConfig, distill, folder_size, load_student

    chunks = corpus_chunks()
    tuning, _held_out_unused = split_questions(ROOT / "evals" / "datasets" / "retrieval.jsonl")
    fit, val = selection_split(tuning, args.val_share)
    texts = student_texts(chunks, fit)
    corpus_texts = [c.embedding_text() for c in chunks]
    teacher = load_embedder(str(teacher_dir), "select-teacher")
    teacher_cost = encode_cost(teacher, corpus_texts)
    teacher_val = dense_on(teacher, work, "select-teacher", val)
    print(
        f"select: fit {len(fit)} / val {len(val)} tuning questions, {len(texts)} distillation texts; "
        f"teacher val dense R@5 {teacher_val['recall@5']:.3f} MRR {teacher_val['mrr']:.3f}, "
        f"encode {teacher_cost['cpu_seconds']:.1f} CPU-s (load {load()})",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {
        "fit": len(fit),
        "val": len(val),
        "val_share": args.val_share,
        "texts": len(texts),
        "teacher_dir": str(teacher_dir),
        "teacher_val": teacher_val,
        "teacher_encode": teacher_cost,
        "rule": choose_student.__doc__,
        "candidates": rows,
    }
    # Cheapest first: when the session runs out of time, the grid run so far is still a grid.
    for epochs in [int(x) for x in args.select_epochs.split(",")]:
        for layers in [int(x) for x in args.select_layers.split(",")]:
            label = f"student-l{layers}-e{epochs}"
            out = work / label
            cfg = StudentConfig(layers=layers, epochs=epochs)
            report = distill(teacher_dir, texts, out, cfg, log=_tagged(label))
            student = load_student(out, label)
            cost = encode_cost(student, corpus_texts)
            scores = dense_on(student, work, label, val)
            row: dict[str, Any] = {
                "layers": layers,
                "epochs": epochs,
                "kept_layers": report.kept_layers,
                "distill_seconds": report.seconds,
                "size_mb": folder_size(out) / 1e6,
                "speedup": teacher_cost["cpu_seconds"] / max(cost["cpu_seconds"], 1e-9),
                "encode": cost,
                "val": scores,
                "recall5_kept": scores["recall@5"] / max(teacher_val["recall@5"], 1e-9),
                "mrr_kept": scores["mrr"] / max(teacher_val["mrr"], 1e-9),
                "load": load(),
            }
            rows.append(row)
            print(
                f"select {label}: val dense R@5 {teacher_val['recall@5']:.3f} -> {scores['recall@5']:.3f} "
                f"({100 * row['recall5_kept']:.1f}% kept), MRR {teacher_val['mrr']:.3f} -> "
                f"{scores['mrr']:.3f} ({100 * row['mrr_kept']:.1f}%), {row['size_mb']:.1f} MB, "
                f"{row['speedup']:.2f}x ({teacher_cost['cpu_seconds']:.1f} -> "
                f"{cost['cpu_seconds']:.1f} CPU-s), "
                f"distil {report.seconds:.0f} s (load {row['load']})",
                flush=True,
            )
            shutil.rmtree(out, ignore_errors=True)
            if args.out:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps({"select": result}, indent=2, default=str), encoding="utf-8")
    chosen = choose_student(rows)
    result["chosen"] = None if chosen is None else {"layers": chosen["layers"], "epochs": chosen["epochs"]}
    print(f"select: chosen {result['chosen']}", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--methods", default="full,lora", help="comma-separated: full, lora (empty: none)")
    # Defaults: the recipe chosen on the tuning half (benchmarks/retriever_tuning.py; docs/retrieval.md).
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=0)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--question-repeat", type=int, default=3)
    parser.add_argument("--sources", default="question", help="comma-separated pair sources")
    parser.add_argument("--fusion-share", type=int, default=0)
    parser.add_argument("--fusion-folds", type=int, default=4)
    parser.add_argument("--lora-lr", type=float, default=2e-4)
    parser.add_argument("--student", action="store_true")
    parser.add_argument("--teacher", type=Path, default=None)
    # 5 of 6 layers, 1 epoch: chosen by --student-select on the tuning half (docs/retrieval.md).
    parser.add_argument("--student-layers", type=int, default=5)
    parser.add_argument("--student-epochs", type=int, default=1)
    parser.add_argument(
        "--student-select",
        action="store_true",
        help="choose the student's layers and epochs on a fit/val split of the tuning half "
        "(--teacher: a teacher trained without the val questions)",
    )
    parser.add_argument(
        "--val-share", type=int, default=3, help="--student-select: about 1/N of tuning is val"
    )
    parser.add_argument("--select-layers", default="5,6")
    parser.add_argument("--select-epochs", default="1,2,3")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "retrieval_models.json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    results: dict[str, Any] = {"threads": args.threads, "cpus": os.cpu_count(), "load_start": load()}
    work = Path(tempfile.mkdtemp(prefix="retriever-bench-"))
    for method in [m for m in args.methods.split(",") if m]:
        results[method] = train_method(method, work, args)
        r = results[method]
        held = r["held_out"]
        print(
            f"{method}: {r['training']['steps']} steps, train {r['training']['seconds']:.0f} s wall / "
            f"{r['training']['cpu_seconds']:.0f} CPU-s, trainable {r['training']['trainable_parameters']:,}; "
            f"held-out dense R@5 {held['dense']['recall@5']:.3f} R@1 {held['dense']['recall@1']:.3f}; "
            f"hybrid R@1 {held['hybrid']['recall@1']:.3f} MRR {held['hybrid']['mrr']:.3f} "
            f"R@5 {held['hybrid']['recall@5']:.3f} (load {r['load_before']} -> {r['load_after']})",
            flush=True,
        )
    if args.student_select:
        if args.teacher is None:
            print("--student-select needs --teacher DIR (trained without the val questions)")
            return 2
        results["select"] = student_select(args.teacher, work, args)
    if args.student:
        teacher = args.teacher or (Path(results["full"]["model_dir"]) if "full" in results else None)
        if teacher is None:
            print("--student needs --teacher DIR or the full method in --methods")
            return 2
        s = results["student"] = student_bench(teacher, work, args)
        sizes = f"{s['student_mb']:.1f} MB (teacher {s['teacher_mb']:.1f} MB)"
        speed = (
            f"encode {s['encode_speedup_cpu']:.2f}x faster (CPU-s {s['teacher_encode']['cpu_seconds']:.1f}"
            f" -> {s['student_encode']['cpu_seconds']:.1f})"
        )
        recall = (
            f"held-out dense R@5 {s['teacher']['dense.recall@5']:.3f} -> {s['student']['dense.recall@5']:.3f}"
            f" ({100 * s['recall5_kept']:.1f}% kept)"
        )
        print(
            f"student: layers {s['distill']['kept_layers']} of the teacher, {sizes}; {speed}; {recall}; "
            f"floors {s['floors_met']} (load {s['load']})",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
