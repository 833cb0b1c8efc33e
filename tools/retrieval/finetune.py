"""Fine-tuning the sentence-transformers retriever on CPU: full fine-tune or LoRA (peft).

Contract of :func:`finetune`: loads the model in ``base_path`` (a sentence-transformers folder),
optionally keeps only its first ``layers`` transformer layers (tests train a tiny model this way),
trains it on :class:`~tools.retrieval.training_data.TrainingPair` rows with the in-batch-negatives
ranking loss (anchor against every positive and hard negative of the batch; any candidate that is a
positive of the row's anchor anywhere in the training set is masked out of its negatives: another
chunk of the same gold section, or the same question repeated, is not a wrong answer), and saves a
plain sentence-transformers folder to ``out_dir`` (a LoRA adapter is merged into the weights, so
serving needs no peft). Deterministic for a seed on one machine: the seed fixes the initialisation,
the shuffling and dropout, and torch runs with ``torch.use_deterministic_algorithms``.

Why our own loop rather than the sentence-transformers trainer: a dozen lines, no ``datasets``/
``accelerate`` round trip, and a step count and thread count we control on a shared 2-core machine.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from tools import config
from tools.retrieval.training_data import TrainingPair

LORA_TARGETS = ["query", "key", "value", "dense"]


class FinetuneConfig(BaseModel):
    method: str = "full"  # "full" or "lora"
    epochs: int = 2
    max_steps: int = 0  # > 0: stop after this many steps (smoke tests)
    batch_size: int = 16
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    # Word pieces read per text in training only: 93% of the corpus chunks are shorter (median 43).
    # The saved model keeps the base model's own length (256), which the index is built with;
    # saved at 128, a trained model served the 7% longer chunks cut in half.
    max_seq_length: int = 128
    scale: float = 20.0  # cosine similarities times this, before the softmax
    seed: int = 13
    layers: int = 0  # > 0: keep only the first N transformer layers
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    threads: int = 2


class FinetuneReport(BaseModel):
    steps: int
    examples: int
    seconds: float
    cpu_seconds: float
    final_loss: float
    mean_loss_last_epoch: float
    trainable_parameters: int
    total_parameters: int


def finetune(
    base_path: Path,
    pairs: Sequence[TrainingPair],
    out_dir: Path,
    cfg: FinetuneConfig,
    *,
    log: Callable[[str], None] | None = None,
    on_epoch: Callable[[int, Any], None] | None = None,
) -> FinetuneReport:
    """Train and save (see the module docstring).

    ``on_epoch(epoch, model)`` runs after each epoch with the model in eval mode (hyper-parameter
    selection scores it on a validation split there); training resumes afterwards.
    """
    config.offline()
    import torch
    from sentence_transformers import SentenceTransformer

    if cfg.method not in ("full", "lora"):
        raise ValueError(f"unknown fine-tuning method {cfg.method!r} (full or lora)")
    if not pairs:
        raise ValueError("no training pairs")
    torch.set_num_threads(cfg.threads)
    _seed(cfg.seed)
    model = SentenceTransformer(str(base_path), device="cpu")
    serving_length = model.max_seq_length
    model.max_seq_length = cfg.max_seq_length
    transformer = model[0]
    if cfg.layers:
        truncate_layers(transformer.auto_model, cfg.layers)
    if cfg.method == "lora":
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=LORA_TARGETS,
            bias="none",
        )
        base: Any = transformer.auto_model  # torch's stubs type module attributes as Tensor | Module
        # peft puts the adapters into ``base``'s own layers, which the transformer module runs. Not
        # assigned back: ``auto_model`` is a read-only property in sentence-transformers 6, and the
        # assignment only registered the wrapper as a second child (then merging found no wrapper).
        peft_model = get_peft_model(base, lora)
    params = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)
    total = sum(p.numel() for p in model.parameters())
    optimiser = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.01)
    batches_per_epoch = math.ceil(len(pairs) / cfg.batch_size)
    steps_total = batches_per_epoch * cfg.epochs
    if cfg.max_steps:
        steps_total = min(steps_total, cfg.max_steps)
    warmup = max(1, int(steps_total * cfg.warmup_ratio))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (steps_total - step) / max(1, steps_total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
    positives_of = anchor_positives(pairs)
    rng = random.Random(cfg.seed)
    order = list(range(len(pairs)))
    started, started_cpu = time.perf_counter(), time.process_time()
    step = 0
    loss_value = float("nan")
    epoch_losses: list[float] = []
    model.train()
    for epoch in range(cfg.epochs):
        if step >= steps_total:
            break  # max_steps reached: the last epoch's losses stay for the report
        rng.shuffle(order)
        epoch_losses = []
        for start in range(0, len(order), cfg.batch_size):
            if step >= steps_total:
                break
            batch = [pairs[i] for i in order[start : start + cfg.batch_size]]
            loss = _batch_loss(model, batch, cfg.scale, positives_of)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            scheduler.step()
            step += 1
            loss_value = float(loss.detach())
            epoch_losses.append(loss_value)
            if log and (step % 10 == 0 or step == steps_total):
                log(f"epoch {epoch + 1} step {step}/{steps_total} loss {loss_value:.4f}")
        if on_epoch is not None:
            model.eval()
            with torch.no_grad():
                on_epoch(epoch + 1, model)
            model.train()
    model.eval()
    if cfg.method == "lora":
        peft_model.merge_and_unload()  # adapters merged into ``base``'s weights in place
    model.max_seq_length = serving_length
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    return FinetuneReport(
        steps=step,
        examples=len(pairs),
        seconds=round(time.perf_counter() - started, 2),
        cpu_seconds=round(time.process_time() - started_cpu, 2),
        final_loss=loss_value,
        mean_loss_last_epoch=float(np.mean(epoch_losses)) if epoch_losses else float("nan"),
        trainable_parameters=trainable,
        total_parameters=total,
    )


def truncate_layers(auto_model: Any, layers: int) -> None:
    """Keep the first ``layers`` transformer layers of a BERT-like model (config updated too)."""
    import torch

    encoder = auto_model.encoder
    keep = list(encoder.layer)[:layers]
    encoder.layer = torch.nn.ModuleList(keep)
    auto_model.config.num_hidden_layers = len(keep)


def anchor_positives(pairs: Sequence[TrainingPair]) -> dict[str, frozenset[str]]:
    """Every chunk id that some pair gives as a positive of each anchor text."""
    found: dict[str, set[str]] = {}
    for pair in pairs:
        found.setdefault(pair.anchor, set()).add(pair.positive_id)
    return {anchor: frozenset(ids) for anchor, ids in found.items()}


def negative_mask(
    batch: Sequence[TrainingPair], candidate_ids: Sequence[str], positives_of: dict[str, frozenset[str]]
) -> list[list[bool]]:
    """``mask[row][column]``: the candidate is a right answer for the row's anchor but not its own
    positive (column ``row``), so it must not count as a negative.

    Why the whole training set and not the batch: a question whose gold section spans three chunks
    has three pairs; when two meet in a batch (or a repeated question meets itself, or a hard
    negative mined for one anchor is a positive of another), ranking one above the other is no error.
    Masked by chunk id alone, those rows pushed right answers apart.
    """
    return [
        [
            column != row and chunk_id in positives_of.get(pair.anchor, frozenset((pair.positive_id,)))
            for column, chunk_id in enumerate(candidate_ids)
        ]
        for row, pair in enumerate(batch)
    ]


def _batch_loss(
    model: Any,
    batch: Sequence[TrainingPair],
    scale: float,
    positives_of: dict[str, frozenset[str]],
) -> Any:
    """In-batch-negatives ranking loss with hard negatives; right answers masked (module docstring)."""
    import torch

    anchors = _encode(model, [p.anchor for p in batch])
    candidate_texts = [p.positive for p in batch]
    candidate_ids = [p.positive_id for p in batch]
    for pair in batch:
        if pair.negative is not None and pair.negative_id is not None:
            candidate_texts.append(pair.negative)
            candidate_ids.append(pair.negative_id)
    candidates = _encode(model, candidate_texts)
    scores = anchors @ candidates.T * scale
    mask = torch.tensor(negative_mask(batch, candidate_ids, positives_of), dtype=torch.bool)
    scores = scores.masked_fill(mask, float("-inf"))
    labels = torch.arange(len(batch))
    return torch.nn.functional.cross_entropy(scores, labels)


def _encode(model: Any, texts: list[str]) -> Any:
    import torch

    prepare = getattr(model, "preprocess", None) or model.tokenize  # tokenize is deprecated in v6
    features = prepare(texts)
    output = model(features)
    return torch.nn.functional.normalize(output["sentence_embedding"], dim=-1)


def _seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
