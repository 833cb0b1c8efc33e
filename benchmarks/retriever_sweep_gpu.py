"""Cross-validated sweep of the retriever's fine-tuning recipe on the TUNING half (GPU or CPU).

Usage (device machine; needs only torch, transformers and numpy; NOT this project's packages):
    python3 benchmarks/retriever_sweep_gpu.py --bundle B.json --model DIR --out results.json
        [--budget 390] [--workers 6] [--device cuda]
Local smoke run: --device cpu --workers 2 --layers 1 --max-steps 1 --budget 120.

Input: the bundle of benchmarks/retriever_sweep_export.py (tuning questions with folds, gold,
positives and hard negatives; corpus chunks and pairs; BM25 lists for the hybrid proxy) and a
sentence-transformers folder of the shipped base model (float16 weights are upcast to float32).

**Cross-validation.** The tuning half is split in 3 folds by ``fold_of(id, 3)`` (the trainer's
out-of-fold hash). Each config trains 3 models from the base, each on the question pairs of two
folds (plus the corpus pairs with ``sources=all``), and scores the third: dense recall@1/@5 and
MRR over sections as the served dense search ranks them (``_hits``: one hit per (doc, section),
at most 2 code-set entries per code set, top 10), and a hybrid proxy: the served fusion mirrored
(tools/retrieval/fusion.py ``fuse`` + ``promote`` on the exported BM25 top 60 and the model's dense
top 60, no re-ranker) at the default weights (rrf_k 5, dense 0.3) and at every point of
``evals.retrieval_eval.FUSION_GRID``; "hybrid tuned" is the grid point best on the pooled
out-of-fold lists, as ``--fusion-folds`` chooses it. Figures are pooled over the 161 questions
(each scored once, by a model that never saw it).

**Training is finetune.py's, re-implemented** (the device has no pydantic, so tools/ cannot be
imported): in-batch negatives plus each pair's hard negatives (0, 1 or 3), cosine similarities of
L2-normalised mean-pooled embeddings times ``scale``, cross-entropy against the row's own positive,
every candidate that is a positive of the row's anchor anywhere in the training set (other than
its own column) masked to -inf; AdamW (weight decay 0.01), gradient norm clipped at 1.0, linear
warm-up over 10% of the steps then linear decay to 0 over ``epochs``; texts cut at 128 word pieces
for training, 256 for scoring (the serving length); dropout on in training; pairs shuffled per
epoch by ``random.Random(seed)``. The pair lists are the trainer's (same builders, same order,
question pairs repeated as a block). Numerics: float32 throughout (no autocast, no TF32), so GPU
and CPU differ only by kernel rounding and by the dropout masks (the GPU's random stream is not
the CPU's): a GPU figure is an estimate of the CPU trainer's, not a reproduction.

Each config is trained with its own epoch count (the schedule decays over that many epochs, as
``model train retriever --epochs N`` does); a run of N epochs also reports its intermediate epochs
(``per_epoch``; those sit mid-schedule and are not what ``--epochs k`` would give).

**Search.** Coordinate ascent from the current recipe: every single-factor change of the best
config so far (grid below) is tried, then the config combining each factor's best level; repeat
until the best stops changing; then the best three and the current recipe again with two more
seeds (the noise floor); then untried configs of the full grid in a fixed random order until the
time budget. Selection rule, fixed before the run: pooled dense recall@5, then MRR.
Results go to ``--out`` (JSON) after every round.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GRID: dict[str, tuple[Any, ...]] = {
    "epochs": (1, 2, 3, 4),
    "lr": (2e-5, 5e-5, 1e-4),
    "repeat": (1, 3, 5),
    "negatives": (0, 1, 3),
    "sources": ("question", "all"),
    "batch": (32, 64),
    "scale": (20.0, 30.0),
}
CURRENT = {
    "epochs": 1,
    "lr": 5e-5,
    "repeat": 3,
    "negatives": 1,
    "sources": "question",
    "batch": 32,
    "scale": 20.0,
}
SEED = 13
FUSION_GRID = {"rrf_k": (5, 10, 20), "dense": (0.3, 0.5, 0.7, 1.0, 1.3, 2.0, 3.0)}  # evals/retrieval_eval.py
DEFAULT_POINT = (5, 0.3)
TRAIN_LEN, SERVE_LEN = 128, 256
WARMUP = 0.1
DEPTH = 60  # search.CANDIDATES
HITS = 10  # retrieval_eval.DEPTH
REFERENCE_HITS_PER_DOC = 2
# FusionWeights defaults other than rrf_k and dense
FUSION = {"bm25": 1.0, "reference": 0.3, "code_boost": 0.3, "reference_code_boost": 0.15,
          "message_type_boost": 0.12, "decision_boost": 0.18, "doc_weight": 0.1}  # fmt: skip


# ---------------------------------------------------------------- pairs (no torch) --------------


def make_pairs(
    bundle: dict[str, Any], question_ids: set[str], repeat: int, sources: str, negatives: int
) -> list[tuple[str, int, tuple[int, ...], str]]:
    """``(anchor, positive chunk, hard negative chunks, source)`` in the trainer's order:
    ``corpus_and_question_pairs(as_served(questions), ...)`` then ``mine_negatives``."""
    use_all = sources == "all"
    key = "neg_all" if use_all else "neg_q"
    asked = [
        (q["served"], positive, tuple(q[key][k][:negatives]), "question")
        for q in bundle["questions"]
        if q["id"] in question_ids
        for k, positive in enumerate(q["positives"])
    ]
    corpus = (
        [
            (c["anchor"], c["positive"], tuple(c["neg"][:negatives]), c["source"])
            for c in bundle["corpus_pairs"]
        ]
        if use_all
        else []
    )
    return asked * max(1, repeat) + corpus


def anchor_positives(pairs: Sequence[tuple[str, int, tuple[int, ...], str]]) -> dict[str, frozenset[int]]:
    found: dict[str, set[int]] = {}
    for anchor, positive, _n, _s in pairs:
        found.setdefault(anchor, set()).add(positive)
    return {a: frozenset(ids) for a, ids in found.items()}


# ---------------------------------------------------------------- ranking mirror (no torch) -----


def section_matches(hit: str, gold: str) -> bool:
    return hit == gold or hit.startswith(gold + ".")


def first_correct(hits: Sequence[tuple[str, str]], gold: Sequence[Sequence[str]]) -> int:
    """1-based rank of the first hit inside a gold section; 0 when none."""
    for rank, (doc, section) in enumerate(hits, 1):
        if any(doc == g[0] and section_matches(section, g[1]) for g in gold):
            return rank
    return 0


def hits_of(chunks: Sequence[dict[str, Any]], order: Sequence[int], k: int = HITS) -> list[tuple[str, str]]:
    """search._hits: first ``k`` distinct (doc, section), at most 2 entries per code set."""
    hits: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    per_doc: dict[str, int] = {}
    for i in order:
        chunk = chunks[i]
        key = (chunk["doc_id"], chunk["section"])
        if key in seen:
            continue
        if chunk["kind"] == "reference":
            if per_doc.get(chunk["doc_id"], 0) >= REFERENCE_HITS_PER_DOC:
                continue
            per_doc[chunk["doc_id"]] = per_doc.get(chunk["doc_id"], 0) + 1
        seen.add(key)
        hits.append(key)
        if len(hits) == k:
            break
    return hits


def fuse(
    chunks: Sequence[dict[str, Any]],
    bm25_ids: Sequence[int],
    dense_ids: Sequence[int],
    named: Sequence[str],
    types: Sequence[str],
    rrf_k: float,
    dense: float,
) -> dict[int, float]:
    """tools/retrieval/fusion.py ``fuse`` with FusionWeights(rrf_k=rrf_k, dense=dense)."""
    w = FUSION
    scores: dict[int, float] = {}
    for weight, ids in ((w["bm25"], bm25_ids), (dense, dense_ids)):
        for rank, i in enumerate(ids, 1):
            share = weight / (rrf_k + rank)
            if chunks[i]["kind"] == "reference" and not named:
                share *= w["reference"]
            scores[i] = scores.get(i, 0.0) + share
    if w["doc_weight"]:
        totals: dict[str, float] = {}
        for i, score in scores.items():
            if chunks[i]["kind"] != "reference":
                totals[chunks[i]["doc_id"]] = totals.get(chunks[i]["doc_id"], 0.0) + score
        for i, score in list(scores.items()):
            if chunks[i]["kind"] != "reference":
                scores[i] = score + w["doc_weight"] * (totals[chunks[i]["doc_id"]] - score)
    if not named and not types:
        return scores
    unit = w["bm25"] / (rrf_k + 1)
    for i in scores:
        chunk = chunks[i]
        matched = sum(1 for code in named if code in chunk["codes"])
        if matched:
            if chunk["kind"] == "reference":
                scores[i] += unit * w["reference_code_boost"]
            else:
                scores[i] += unit * w["code_boost"] * matched / math.sqrt(len(chunk["codes"]))
        if matched and chunk["kind"] != "reference" and chunk["decision"]:
            scores[i] += unit * w["decision_boost"]
        if types and any(t in chunk["types"] for t in types):
            scores[i] += unit * w["message_type_boost"]
    return scores


def promote(
    chunks: Sequence[dict[str, Any]], order: list[int], named: Sequence[str], extra: Sequence[int]
) -> list[int]:
    """tools/retrieval/fusion.py ``promote``."""
    if not named:
        return order
    wanted = set(named)
    seen = set(order)
    candidates = [*order, *(j for j in extra if j not in seen)]
    best: tuple[int, int, int] | None = None
    for position, i in enumerate(candidates):
        chunk = chunks[i]
        matched = len(wanted & set(chunk["codes"]))
        if chunk["kind"] == "reference" or not matched:
            continue
        key = (-matched, len(chunk["codes"]), position)
        if best is None or key < best:
            best = key
    if best is None:
        return order
    chosen = candidates[best[2]]
    return [chosen, *(i for i in order if i != chosen)]


def hybrid_hits(
    bundle: dict[str, Any], q: dict[str, Any], dense_ids: Sequence[int], rrf_k: float, dense: float
) -> list[tuple[str, str]]:
    chunks = bundle["chunks"]
    scores = fuse(chunks, q["bm25"], dense_ids, q["named"], q["types"], rrf_k, dense)
    order = sorted(scores, key=lambda i: (-scores[i], i))
    return hits_of(chunks, promote(chunks, order, q["named"], q["extra"]))


def question_scores(bundle: dict[str, Any], q: dict[str, Any], dense_ids: Sequence[int]) -> dict[str, Any]:
    """First-correct ranks: dense, and hybrid at every fusion grid point."""
    out: dict[str, Any] = {"dense": first_correct(hits_of(bundle["chunks"], dense_ids), q["gold"])}
    for rrf_k, dense in itertools.product(FUSION_GRID["rrf_k"], FUSION_GRID["dense"]):
        out[f"h{rrf_k}/{dense}"] = first_correct(hybrid_hits(bundle, q, dense_ids, rrf_k, dense), q["gold"])
    return out


def summarise(ranks: Sequence[int]) -> dict[str, float]:
    n = max(1, len(ranks))
    return {
        "recall@1": sum(1 for r in ranks if r == 1) / n,
        "recall@5": sum(1 for r in ranks if 1 <= r <= 5) / n,
        "mrr": sum(1.0 / r for r in ranks if r) / n,
    }


def pooled(per_question: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Dense, hybrid at the default fusion, and hybrid at the pooled-best grid point (r@5, MRR, r@1)."""
    rows = list(per_question.values())
    dense = summarise([r["dense"] for r in rows])
    grid = {key: summarise([r[key] for r in rows]) for key in rows[0] if key.startswith("h")}
    best_key = max(
        grid,
        key=lambda k: (
            round(grid[k]["recall@5"], 6),
            round(grid[k]["mrr"], 6),
            round(grid[k]["recall@1"], 6),
        ),
    )
    default_key = f"h{DEFAULT_POINT[0]}/{DEFAULT_POINT[1]}"
    return {
        "questions": len(rows),
        "dense": dense,
        "hybrid_default": grid[default_key],
        "hybrid_tuned": grid[best_key] | {"point": best_key[1:]},
    }


# ---------------------------------------------------------------- model and training (torch) ---


class Worker:
    """Holds the base weights, the tokenised texts and the bundle; trains and scores one (config, fold)."""

    def __init__(self, bundle_path: str, model_dir: str, device: str, layers: int, threads: int) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(threads)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        self.torch = torch
        self.device = torch.device(device)
        self.bundle = json.loads(Path(bundle_path).read_text(encoding="utf-8"))
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModel.from_pretrained(model_dir, dtype=torch.float32)
        model = model.float()
        if layers:
            model.encoder.layer = torch.nn.ModuleList(list(model.encoder.layer)[:layers])
            model.config.num_hidden_layers = layers
        self.model = model.to(self.device)
        self.base_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self._ids: dict[tuple[str, int], list[int]] = {}

    # --- encoding: sentence-transformers' Transformer + mean Pooling + Normalize
    def _tokens(self, text: str, length: int) -> list[int]:
        key = (text, length)
        ids = self._ids.get(key)
        if ids is None:
            ids = self._ids[key] = self.tokenizer(text.strip(), truncation=True, max_length=length)[
                "input_ids"
            ]
        return ids

    def encode(self, texts: Sequence[str], length: int) -> Any:
        torch = self.torch
        rows = [self._tokens(t, length) for t in texts]
        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        out = self.model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
        tokens = out.last_hidden_state
        weights = mask.unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def embed_all(self, texts: Sequence[str], batch: int = 128) -> Any:
        """Eval-mode embeddings at the serving length, batched by length (like ``encode``)."""
        torch = self.torch
        order = sorted(range(len(texts)), key=lambda i: len(self._tokens(texts[i], SERVE_LEN)))
        out = torch.empty((len(texts), self.model.config.hidden_size), device=self.device)
        with torch.no_grad():
            for start in range(0, len(order), batch):
                part = order[start : start + batch]
                out[part] = self.encode([texts[i] for i in part], SERVE_LEN)
        return out

    # --- scoring
    def score(self, questions: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        torch = self.torch
        was_training = self.model.training
        self.model.eval()
        chunks = self.embed_all([c["text"] for c in self.bundle["chunks"]])
        asked = self.embed_all([q["served"] for q in questions])
        top = torch.topk(asked @ chunks.T, DEPTH, dim=1).indices.cpu().tolist()
        if was_training:
            self.model.train()
        return {q["id"]: question_scores(self.bundle, q, top[row]) for row, q in enumerate(questions)}

    # --- training (tools/retrieval/finetune.py)
    def batch_loss(
        self,
        batch: Sequence[tuple[str, int, tuple[int, ...], str]],
        positives_of: dict[str, frozenset[int]],
        scale: float,
    ) -> Any:
        """finetune._batch_loss: anchors against every positive and hard negative of the batch,
        right answers of the row's anchor (other than its own column) masked."""
        torch = self.torch
        chunks = self.bundle["chunks"]
        candidate_ids = [p[1] for p in batch] + [n for p in batch for n in p[2]]
        anchors = self.encode([p[0] for p in batch], TRAIN_LEN)
        candidates = self.encode([chunks[i]["text"] for i in candidate_ids], TRAIN_LEN)
        scores = anchors @ candidates.T * scale
        mask = torch.tensor(
            [
                [col != row and cid in positives_of[p[0]] for col, cid in enumerate(candidate_ids)]
                for row, p in enumerate(batch)
            ],
            dtype=torch.bool,
            device=self.device,
        )
        scores = scores.masked_fill(mask, float("-inf"))
        return torch.nn.functional.cross_entropy(scores, torch.arange(len(batch), device=self.device))

    def run(
        self, cfg: dict[str, Any], fold: int, seed: int, max_steps: int, hard_stop: float
    ) -> dict[str, Any]:
        torch = self.torch
        started = time.perf_counter()
        questions = self.bundle["questions"]
        fit_ids = {q["id"] for q in questions if q["fold"] != fold}
        held = [q for q in questions if q["fold"] == fold]
        self.model.load_state_dict(self.base_state)
        if cfg["epochs"] == 0:
            return {
                "per_epoch": {"0": self.score(held)},
                "steps": 0,
                "seconds": time.perf_counter() - started,
            }
        random.seed(seed)
        torch.manual_seed(seed)
        pairs = make_pairs(self.bundle, fit_ids, cfg["repeat"], cfg["sources"], cfg["negatives"])
        positives_of = anchor_positives(pairs)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=0.01)
        per_epoch_steps = math.ceil(len(pairs) / cfg["batch"])
        if max_steps:  # smoke runs: at most this many steps in each epoch
            per_epoch_steps = min(per_epoch_steps, max_steps)
        steps_total = per_epoch_steps * cfg["epochs"]
        warmup = max(1, int(steps_total * WARMUP))

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return max(0.0, (steps_total - step) / max(1, steps_total - warmup))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
        rng = random.Random(seed)
        order = list(range(len(pairs)))
        per_epoch: dict[str, Any] = {}
        step = 0
        losses: list[float] = []
        self.model.train()
        for epoch in range(cfg["epochs"]):
            if step >= steps_total or time.perf_counter() > hard_stop:
                break
            rng.shuffle(order)
            for start in range(0, per_epoch_steps * cfg["batch"], cfg["batch"]):
                batch = [pairs[i] for i in order[start : start + cfg["batch"]]]
                loss = self.batch_loss(batch, positives_of, cfg["scale"])
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimiser.step()
                scheduler.step()
                step += 1
                losses.append(float(loss.detach()))
            per_epoch[str(epoch + 1)] = self.score(held)
        return {
            "per_epoch": per_epoch,
            "steps": step,
            "pairs": len(pairs),
            "final_loss": losses[-1] if losses else None,
            "seconds": round(time.perf_counter() - started, 2),
            "complete": str(cfg["epochs"]) in per_epoch,
        }


_WORKER: Worker | None = None


def _init(bundle: str, model: str, device: str, layers: int, threads: int) -> None:
    global _WORKER
    _WORKER = Worker(bundle, model, device, layers, threads)


def _task(args: tuple[str, dict[str, Any], int, int, int, float, float]) -> dict[str, Any]:
    key, cfg, fold, seed, max_steps, deadline, hard_stop = args
    if time.time() > deadline:
        return {"key": key, "fold": fold, "seed": seed, "skipped": True}
    assert _WORKER is not None
    try:
        out = _WORKER.run(cfg, fold, seed, max_steps, time.perf_counter() + (hard_stop - time.time()))
    except Exception as exc:  # report, do not kill the sweep
        return {"key": key, "fold": fold, "seed": seed, "error": repr(exc)}
    return {"key": key, "fold": fold, "seed": seed, **out}


# ---------------------------------------------------------------- coordinator ------------------


def estimated_cost(cfg: dict[str, Any]) -> float:
    """Relative cost of one fold's run: steps times candidates per row, plus the scoring."""
    pairs = 134 * cfg["repeat"] + (576 if cfg["sources"] == "all" else 0)
    return cfg["epochs"] * (pairs * (2 + cfg["negatives"]) / 3 + 400)


def config_key(cfg: dict[str, Any], seed: int = SEED) -> str:
    parts = [f"{k}={cfg[k]}" for k in GRID]
    return ",".join(parts) + (f",seed={seed}" if seed != SEED else "")


def neighbours(center: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for factor, levels in GRID.items():
        for level in levels:
            if level != center[factor]:
                out.append(center | {factor: level})
    return out


class Sweep:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.bundle = json.loads(Path(args.bundle).read_text(encoding="utf-8"))
        self.folds = int(self.bundle["folds"])
        self.started = time.time()
        self.deadline = self.started + args.budget
        self.hard_stop = self.deadline + args.grace
        # key -> {"config", "seed", "folds": {fold: task result}}
        self.results: dict[str, dict[str, Any]] = {}
        self._summaries: dict[str, dict[str, Any] | None] = {}
        self.log: list[str] = []
        ctx = multiprocessing.get_context("spawn")
        self.pool = ctx.Pool(
            args.workers,
            initializer=_init,
            initargs=(args.bundle, args.model, args.device, args.layers, args.threads),
        )

    def say(self, message: str) -> None:
        line = f"[{time.time() - self.started:6.1f}s] {message}"
        print(line, flush=True)
        self.log.append(line)

    def run_configs(self, configs: Sequence[tuple[dict[str, Any], int]]) -> None:
        """Train and score every (config, seed) on every fold, in parallel; skip those already done."""
        tasks = []
        for cfg, seed in configs:
            key = config_key(cfg, seed)
            entry = self.results.setdefault(key, {"config": cfg, "seed": seed, "folds": {}})
            for fold in range(self.folds):
                if str(fold) not in entry["folds"]:
                    tasks.append((key, cfg, fold, seed, self.args.max_steps, self.deadline, self.hard_stop))
        if not tasks:
            return
        tasks.sort(key=lambda t: -estimated_cost(t[1]))  # longest first: fewer idle workers at the end
        results = self.pool.imap_unordered(_task, tasks)
        for _ in tasks:
            try:
                out = results.next(timeout=max(5.0, self.hard_stop - time.time() + 10.0))
            except multiprocessing.TimeoutError:
                self.say("a task outlived the hard stop: leaving the round")
                return
            if out.get("skipped"):
                continue
            if "error" in out:
                self.say(f"error {out['key']} fold {out['fold']}: {out['error']}")
                continue
            self.results[out["key"]]["folds"][str(out["fold"])] = out
            self._summaries.pop(out["key"], None)

    def summary(self, key: str) -> dict[str, Any] | None:
        """Pooled out-of-fold figures per epoch of a config, when every fold finished."""
        if key not in self._summaries:
            self._summaries[key] = self._summary(key)
        return self._summaries[key]

    def _summary(self, key: str) -> dict[str, Any] | None:
        entry = self.results.get(key)
        if entry is None or len(entry["folds"]) < self.folds:
            return None
        runs = entry["folds"].values()
        if not all(r.get("complete", True) for r in runs):
            return None
        epochs = sorted({e for r in runs for e in r["per_epoch"]}, key=int)
        per_epoch = {}
        for e in epochs:
            if all(e in r["per_epoch"] for r in runs):
                merged: dict[str, Any] = {}
                for r in runs:
                    merged.update(r["per_epoch"][e])
                per_epoch[e] = pooled(merged)
        final = per_epoch[str(entry["config"]["epochs"])]
        return {
            "key": key,
            "config": entry["config"],
            "seed": entry["seed"],
            "final": final,
            "per_epoch": per_epoch,
            "steps_per_fold": [r["steps"] for r in runs],
            "pairs_per_fold": [r.get("pairs", 0) for r in runs],
            "gpu_seconds": round(sum(r["seconds"] for r in runs), 1),
        }

    @staticmethod
    def rule(s: dict[str, Any]) -> tuple[float, float]:
        return (round(s["final"]["dense"]["recall@5"], 6), round(s["final"]["dense"]["mrr"], 6))

    def ranked(self, seed: int | None = SEED) -> list[dict[str, Any]]:
        rows = [s for k in self.results if (s := self.summary(k)) is not None]
        rows = [s for s in rows if s["config"]["epochs"] > 0 and (seed is None or s["seed"] == seed)]
        return sorted(rows, key=self.rule, reverse=True)

    def write(self, stage: str) -> None:
        ranked = self.ranked()
        payload = {
            "stage": stage,
            "elapsed": round(time.time() - self.started, 1),
            "args": {k: v for k, v in vars(self.args).items()},
            "grid": GRID,
            "current": config_key(CURRENT),
            "rule": "pooled out-of-fold dense recall@5, then MRR",
            "base": self.summary(config_key(CURRENT | {"epochs": 0})),
            "ranked": ranked,
            "seeds": [s for s in self.ranked(None) if s["seed"] != SEED],
            "per_question": {
                s["key"]: self.per_question(s["key"])
                for s in [*ranked[:10], *filter(None, [self.summary(config_key(CURRENT))])]
            },
            "errors": [line for line in self.log if "error" in line],
            "log": self.log,
        }
        Path(self.args.out).write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")

    def per_question(self, key: str) -> dict[str, list[Any]]:
        """Question id -> [dense rank, hybrid rank at the default fusion] at the config's last epoch
        (0: not in the top 10), for paired comparisons."""
        entry = self.results[key]
        epoch = str(entry["config"]["epochs"])
        default = f"h{DEFAULT_POINT[0]}/{DEFAULT_POINT[1]}"
        return {
            qid: [r["dense"], r[default]]
            for run in entry["folds"].values()
            for qid, r in run["per_epoch"][epoch].items()
        }

    def left(self) -> float:
        return self.deadline - time.time()

    def main(self) -> None:
        base = CURRENT | {"epochs": 0}
        self.run_configs([(base, SEED), (CURRENT, SEED)])
        b, c = self.summary(config_key(base)), self.summary(config_key(CURRENT))
        if b:
            self.say(f"base: {json.dumps(b['final'])}")
        if c:
            self.say(f"current recipe: {json.dumps(c['final'])}")
        self.write("current")
        center = dict(CURRENT)
        tried_centres: list[str] = []
        round_ = 0
        while self.left() > 0:
            round_ += 1
            ring = neighbours(center)
            self.run_configs([(cfg, SEED) for cfg in ring])
            # each factor's best level around the centre, combined
            joint = dict(center)
            centre_summary = self.summary(config_key(center))
            for factor in GRID:
                # the configs that differ from the centre in this factor alone, and the centre
                line = [c for c in [*ring, center] if all(c[f] == center[f] for f in GRID if f != factor)]
                options = [s for c in line if (s := self.summary(config_key(c))) is not None]
                if options:
                    best = max(options, key=self.rule)
                    if centre_summary is None or self.rule(best) > self.rule(centre_summary):
                        joint[factor] = best["config"][factor]
            if joint != center and self.left() > 0:
                self.run_configs([(joint, SEED)])
            ranked = self.ranked()
            if not ranked:
                break
            new_center = ranked[0]["config"]
            self.say(f"round {round_}: best {ranked[0]['key']} {json.dumps(ranked[0]['final']['dense'])}")
            self.write(f"round {round_}")
            tried_centres.append(config_key(center))
            if config_key(new_center) in tried_centres:
                break
            center = dict(new_center)
        # noise floor: the best three and the current recipe with two more seeds
        if self.left() > 0:
            top = [s["config"] for s in self.ranked()[:3]]
            if CURRENT not in top:
                top.append(dict(CURRENT))
            self.run_configs([(cfg, seed) for cfg in top for seed in (SEED + 1, SEED + 2)])
            self.say("seeds done")
            self.write("seeds")
        # then the rest of the grid, in a fixed random order
        everything = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
        random.Random(0).shuffle(everything)
        chunk = 3 * max(1, self.args.workers)
        while self.left() > 0:
            todo = [c for c in everything if config_key(c) not in self.results][:chunk]
            if not todo:
                break
            self.run_configs([(cfg, SEED) for cfg in todo])
            self.write("grid")
        self.write("done")
        self.pool.terminate()


def figures(final: dict[str, Any]) -> str:
    """recall@1/recall@5/MRR, dense and hybrid (default fusion), as one line."""
    return " ".join(
        f"{mode} " + "/".join(f"{final[mode][m]:.3f}" for m in ("recall@1", "recall@5", "mrr"))
        for mode in ("dense", "hybrid_default")
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads per worker")
    parser.add_argument("--budget", type=float, default=390.0, help="seconds: no task starts after this")
    parser.add_argument(
        "--grace", type=float, default=40.0, help="seconds after the budget a running task may use"
    )
    parser.add_argument(
        "--layers", type=int, default=0, help="> 0: keep only the first N layers (smoke runs)"
    )
    parser.add_argument(
        "--max-steps", type=int, default=0, help="> 0: at most N steps per epoch (smoke runs)"
    )
    parser.add_argument(
        "--check-base", action="store_true", help="only score the base model on all tuning questions"
    )
    args = parser.parse_args()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if args.check_base:
        return check_base(args)
    sweep = Sweep(args)
    try:
        sweep.main()
    finally:
        sweep.write("final")
    ranked = sweep.ranked()
    for s in ranked[:15]:
        print(f"{s['key']}: {figures(s['final'])}")
    return 0


def check_base(args: argparse.Namespace) -> int:
    """The mirror against the served search: the base model's top 10 for every tuning question,
    compared with what the export recorded from ``ProcedureSearch.search``."""
    worker = Worker(args.bundle, args.model, args.device, 0, args.threads)
    torch = worker.torch
    questions = worker.bundle["questions"]
    with torch.no_grad():
        chunks = worker.embed_all([c["text"] for c in worker.bundle["chunks"]])
        asked = worker.embed_all([q["served"] for q in questions])
    top = torch.topk(asked @ chunks.T, DEPTH, dim=1).indices.cpu().tolist()
    same = {"dense": 0, "hybrid": 0}
    ranks: dict[str, list[int]] = {"dense": [], "hybrid": [], "served_dense": [], "served_hybrid": []}
    for row, q in enumerate(questions):
        dense = hits_of(worker.bundle["chunks"], top[row])
        hybrid = hybrid_hits(worker.bundle, q, top[row], *DEFAULT_POINT)
        same["dense"] += [list(h) for h in dense] == q["base"]["dense"]
        same["hybrid"] += [list(h) for h in hybrid] == q["base"]["hybrid"]
        ranks["dense"].append(first_correct(dense, q["gold"]))
        ranks["hybrid"].append(first_correct(hybrid, q["gold"]))
        ranks["served_dense"].append(first_correct([tuple(h) for h in q["base"]["dense"]], q["gold"]))
        ranks["served_hybrid"].append(first_correct([tuple(h) for h in q["base"]["hybrid"]], q["gold"]))
    report = {
        "questions": len(questions),
        "identical_top10": same,
        **{k: summarise(v) for k, v in ranks.items()},
    }
    print(json.dumps(report, indent=1))
    Path(args.out).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
