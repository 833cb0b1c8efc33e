"""Export what a hyper-parameter sweep of the retriever's fine-tuning needs, from the TUNING half only.

Usage: .venv/bin/python benchmarks/retriever_sweep_export.py [--out var/bench/retriever_sweep.json]
           [--folds 3] [--model-out DIR]

Writes one JSON bundle for benchmarks/retriever_sweep_gpu.py, which trains and scores on a machine
that has torch and sentence-transformers but not this project (no pydantic, no ``tools``):

- ``chunks``: every corpus chunk (id, doc_id, section, kind, codes, message types, whether its
  heading names a decision table, and ``text``: ``Chunk.embedding_text()``, what the index embeds);
- ``questions``: the tuning half only (``evals.retrieval_eval.split_of``), each with its gold
  sections, its fold (``app.cli.retriever_fusion.fold_of(id, folds)``, the hash the trainer's
  out-of-fold fusion uses), ``served``: the question as the search's dense model reads it (jargon
  expansion, ``training_data.as_served``), ``positives``: the chunks ``training_data.question_pairs``
  pairs it with, in the trainer's order, hard negatives (below), and for the hybrid proxy the
  served search's BM25 top 60 (BM25 does not depend on the model), the codes and message types the
  fusion reads in it and the chunks of named codes' procedures (``fusion.promote``'s ``extra``);
- ``corpus_pairs``: the heading, decision and reference pairs (``training_data``), in the trainer's
  order, with hard negatives;
- ``base`` (per question): the shipped model's served dense and hybrid top 10 sections (default
  fusion weights, no re-ranker) and its dense top 60 chunks, so the sweep's mirror of the ranking
  can be checked against the served search.

Hard negatives are those of ``repairdesk model train retriever`` in a fresh data directory (the
champion is the shipped base model): ``retriever_models.dense_ranker`` over the base index, then
``training_data.mine_negatives``; up to three per pair are kept (the trainer uses the first, the
sweep tries 0, 1 and 3), the first always equal to the trainer's. The ranker embeds its anchors in
one call whose batches depend on the set of anchors, so the trainer's ranking differs (by float
noise) between ``--sources question`` and all sources: both rankings are exported (``neg_q`` and
``neg_all``) and the sweep uses the one the trainer would.

``--model-out DIR`` also writes a float16 copy of the base model (safetensors, tokenizer, configs)
for the device machine, which upcasts it to float32 on load. The held-out half is never written,
scored or used: only its absence from the bundle is read (``split_questions`` drops it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FORMAT = "repairdesk-retriever-sweep/1"
NEGATIVES_KEPT = 3
BM25_DEPTH = 60  # tools/retrieval/search.py CANDIDATES: the depth of each list before fusion
HITS_DEPTH = 10  # evals/retrieval_eval.py DEPTH


def ranked_negatives(
    pairs: Sequence[Any], chunks: Sequence[Any], rank: Callable[[str], Sequence[int]], keep: int
) -> list[list[int]]:
    """Per pair, the first ``keep`` ranked chunks that are not a right answer of its anchor: the
    rule of ``training_data.mine_negatives`` (right answers by (doc_id, section) over all pairs of
    the anchor), extended past the first."""
    by_id = {c.chunk_id: c for c in chunks}
    positives: dict[str, set[tuple[str, str]]] = {}
    for pair in pairs:
        chunk = by_id[pair.positive_id]
        positives.setdefault(pair.anchor, set()).add((chunk.doc_id, chunk.section))
    out: list[list[int]] = []
    for pair in pairs:
        found = [
            i
            for i in rank(pair.anchor)
            if (chunks[i].doc_id, chunks[i].section) not in positives[pair.anchor]
        ]
        out.append(list(found[:keep]))
    return out


def build_bundle(
    dirs: Sequence[Path], questions_path: Path, *, folds: int = 3, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """The bundle (module docstring). Uses the trainer's own functions for every piece."""
    from app.cli import retriever_models as rm
    from app.cli.retriever_fusion import fold_of
    from tools.retrieval import training_data as td
    from tools.retrieval.active_model import index_dir_for
    from tools.retrieval.chunking import chunk_procedure
    from tools.retrieval.embeddings import MODEL_NAME, default_embedder
    from tools.retrieval.fusion import FusionWeights
    from tools.retrieval.index_store import load_corpus
    from tools.retrieval.search import ProcedureSearch
    from tools.retrieval.synonyms import load_lexicon

    tuning, held_out = rm.split_questions(questions_path)
    del held_out  # never used
    chunks = [c for p in load_corpus(dirs) for c in chunk_procedure(p)]
    position = {c.chunk_id: i for i, c in enumerate(chunks)}
    if len(position) != len(chunks):
        raise ValueError("duplicate chunk ids")
    definitions = rm._definitions()
    lexicon = load_lexicon()

    def expand(text: str) -> str:
        return lexicon.expand(text).dense_text

    labelled = [td.LabelledQuestion(id=q["id"], question=q["question"], gold=q["gold"]) for q in tuning]
    served = td.as_served(labelled, expand)
    embedder = default_embedder()
    index_dir = index_dir_for(MODEL_NAME)

    def mined(sources: Sequence[str]) -> tuple[list[Any], list[list[int]]]:
        """The trainer's pairs for all tuning questions (repeat 1) and their ranked negatives."""
        made = td.corpus_and_question_pairs(served, chunks, definitions, question_repeat=1, sources=sources)
        rank = rm.dense_ranker(embedder, index_dir, dirs, chunks, made)
        negatives = ranked_negatives(made, chunks, rank, NEGATIVES_KEPT)
        trainer = td.mine_negatives(made, chunks, rank)  # the trainer's one negative: must be the first
        for pair, kept in zip(trainer, negatives, strict=True):
            first = position[pair.negative_id] if pair.negative_id is not None else None
            if (kept[0] if kept else None) != first:
                raise AssertionError(f"negative of {pair.anchor!r} differs from mine_negatives")
        return made, negatives

    started = time.perf_counter()
    q_pairs, q_negatives = mined(["question"])
    all_pairs, all_negatives = mined(list(td.SOURCES))
    log(f"negatives mined in {time.perf_counter() - started:.0f} s")
    n_question = len(q_pairs)
    if [p.positive_id for p in all_pairs[:n_question]] != [p.positive_id for p in q_pairs]:
        raise AssertionError("question pairs differ between the two source sets")

    search = ProcedureSearch.load(index_dir, embedder=embedder)
    search.reranker = None
    search.weights = FusionWeights()
    to_bundle = [position[c.chunk_id] for c in search.chunks]  # the index's row -> our chunk index
    if to_bundle != list(range(len(chunks))):
        # the fusion breaks ties by index row: the sweep's mirror breaks them by bundle position
        raise AssertionError("the base index does not hold the chunks in corpus order")

    questions: list[dict[str, Any]] = []
    cursor = 0
    for q, s in zip(tuning, served, strict=True):
        count = len(td.question_pairs([s], chunks))
        mine = slice(cursor, cursor + count)
        cursor += count
        bm25_ids, _values = search.bm25_list(q["question"], BM25_DEPTH)
        fused = search.fused_candidates(q["question"], bm25_ids, _values, [], [])
        dense_ids, _cosines = search.dense_candidates(q["question"], BM25_DEPTH)
        base_hits = {
            mode: [[h.doc_id, h.section] for h in search.search(q["question"], k=HITS_DEPTH, mode=mode)]
            for mode in ("dense", "hybrid")
        }
        questions.append(
            {
                "id": q["id"],
                "question": q["question"],
                "served": s.question,
                "gold": [list(g) for g in q["gold"]],
                "fold": fold_of(q["id"], folds),
                "positives": [position[p.positive_id] for p in q_pairs[mine]],
                "neg_q": q_negatives[mine],
                "neg_all": all_negatives[mine],
                "bm25": [to_bundle[i] for i in bm25_ids],
                "named": list(fused.named),
                "types": list(fused.types),
                "extra": [to_bundle[i] for i in fused.extra],
                "base": base_hits | {"dense_ids": [to_bundle[i] for i in dense_ids]},
            }
        )
    if cursor != n_question:
        raise AssertionError("question pairs do not add up")
    corpus_pairs = [
        {
            "anchor": p.anchor,
            "positive": position[p.positive_id],
            "source": p.source,
            "neg": negatives,
        }
        for p, negatives in zip(all_pairs[n_question:], all_negatives[n_question:], strict=True)
    ]
    anchors = [q["served"] for q in questions]
    return {
        "format": FORMAT,
        "folds": folds,
        "negatives_from": MODEL_NAME,
        "fusion_weights": FusionWeights().__dict__,
        "duplicate_question_anchors": len(anchors) - len(set(anchors)),
        "anchors_shared_with_corpus": len(set(anchors) & {p["anchor"] for p in corpus_pairs}),
        "chunks": [
            {
                "id": c.chunk_id,
                "doc_id": c.doc_id,
                "section": c.section,
                "kind": c.kind,
                "codes": list(c.exception_codes),
                "types": list(c.message_types),
                "decision": "decision" in c.heading.lower(),
                "text": c.embedding_text(),
            }
            for c in chunks
        ],
        "questions": questions,
        "corpus_pairs": corpus_pairs,
    }


def write_fp16_model(source: Path, out: Path) -> Path:
    """A float16 copy of a sentence-transformers folder (weights halved; configs, tokenizer as they are)."""
    from safetensors.torch import load_file, save_file

    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("model.safetensors", "*.md", ".gitattributes"))
    weights = load_file(str(source / "model.safetensors"))
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in weights.items()}
    save_file(half, str(out / "model.safetensors"), metadata={"format": "pt"})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "retriever_sweep.json")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--model-out", type=Path, default=None, help="also write a float16 base model here")
    args = parser.parse_args()

    from app.settings import Settings, configure_process
    from tools import config

    # tools/ read the data directory from the installed settings: without this, the base index is
    # built in (and read from) the checkout's var/ whatever REPAIRDESK_DATA_DIR says.
    configure_process(Settings())
    config.offline()
    from app.cli import retriever_models as rm

    bundle = build_bundle(rm.corpus_dirs(None), rm.questions_path(None), folds=args.folds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(bundle, separators=(",", ":")), encoding="utf-8")
    sizes = [sum(1 for q in bundle["questions"] if q["fold"] == f) for f in range(args.folds)]
    print(
        f"{len(bundle['questions'])} tuning questions (folds {sizes}), {len(bundle['chunks'])} chunks, "
        f"{sum(len(q['positives']) for q in bundle['questions'])} question pairs, "
        f"{len(bundle['corpus_pairs'])} corpus pairs -> {args.out} ({args.out.stat().st_size // 1024} KB)"
    )
    if args.model_out:
        write_fp16_model(rm.base_model_path(), args.model_out)
        print(f"float16 base model -> {args.model_out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
