"""A distilled, compressed student of the retriever: fewer layers, int8 weights, int8 matmuls.

Contract:

- :func:`distill` starts from the teacher itself with every other transformer layer kept (a layer
  subset of a trained model starts far closer to it than a random one), trains it to reproduce the
  teacher's normalised embeddings (cosine loss, plus a term that keeps the in-batch similarity matrix
  of the teacher, which is what ranking depends on) on the texts given (the corpus chunks and the
  tuning questions), and saves it with :func:`save_int8`.
- :func:`save_int8` writes the tokenizer, the BERT config and every weight matrix as int8 with one
  float scale per row (symmetric), small tensors (biases, norms) as float32, plus ``student.json``.
  That is what makes the folder small (MiniLM's word-piece embedding table alone is 47 MB in float32).
- :func:`load_student` rebuilds the model from that folder and quantises its linear layers with
  torch's dynamic int8 quantisation for speed (float activations, int8 weight matmuls); it returns an
  :class:`~tools.retrieval.embeddings.Embedder` (mean pooling and L2 normalisation, as the teacher).
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from tools import config

if TYPE_CHECKING:
    from numpy.typing import NDArray

STUDENT_FILE = "student.json"
WEIGHTS = "weights.int8.safetensors"
MAX_SEQ_LENGTH = 256


# Training options alike in name to retriever_models.TrainOptions and finetune.FinetuneConfig: each is its
# own recipe's.
class StudentConfig(BaseModel):
    # 5 of the teacher's 6 layers, one epoch: chosen inside the tuning half
    # (benchmarks/retrieval_models.py --student-select; docs/retrieval.md has the table).
    layers: int = 5
    epochs: int = 1
    max_steps: int = 0
    batch_size: int = 32
    learning_rate: float = 1e-4
    seed: int = 13
    max_seq_length: int = 256
    threads: int = 2
    similarity_weight: float = 1.0


class StudentReport(BaseModel):
    layers: int
    kept_layers: list[int]
    steps: int
    texts: int
    seconds: float
    final_loss: float
    size_bytes: int


def is_student(folder: Path) -> bool:
    return (folder / STUDENT_FILE).is_file()


def distill(
    teacher_path: Path,
    texts: Sequence[str],
    out_dir: Path,
    cfg: StudentConfig,
    *,
    log: Callable[[str], None] | None = None,
) -> StudentReport:
    """Train and save the student (see the module docstring)."""
    config.offline()
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    teacher = SentenceTransformer(str(teacher_path), device="cpu")
    teacher.max_seq_length = cfg.max_seq_length
    with torch.inference_mode():
        targets = teacher.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_tensor=True
        ).clone()
    student = SentenceTransformer(str(teacher_path), device="cpu")
    student.max_seq_length = cfg.max_seq_length
    auto_model: Any = student[0].auto_model  # a transformers BertModel (torch's stubs say Tensor | Module)
    total_layers = len(auto_model.encoder.layer)
    kept = _spread(total_layers, cfg.layers)
    auto_model.encoder.layer = torch.nn.ModuleList([auto_model.encoder.layer[i] for i in kept])
    auto_model.config.num_hidden_layers = len(kept)
    params = [p for p in student.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=cfg.learning_rate)
    order = list(range(len(texts)))
    rng = random.Random(cfg.seed)
    steps_total = math.ceil(len(order) / cfg.batch_size) * cfg.epochs
    if cfg.max_steps:
        steps_total = min(steps_total, cfg.max_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: max(0.0, 1 - s / max(1, steps_total)))
    started = time.perf_counter()
    step, loss_value = 0, float("nan")
    student.train()
    for _epoch in range(cfg.epochs):
        rng.shuffle(order)
        for start in range(0, len(order), cfg.batch_size):
            if step >= steps_total:
                break
            rows = order[start : start + cfg.batch_size]
            prepare = getattr(student, "preprocess", None) or student.tokenize
            features = prepare([texts[i] for i in rows])
            predicted = torch.nn.functional.normalize(student(features)["sentence_embedding"], dim=-1)
            target = targets[rows]
            loss = (1 - (predicted * target).sum(-1)).mean()
            if cfg.similarity_weight:
                loss = loss + cfg.similarity_weight * torch.nn.functional.mse_loss(
                    predicted @ predicted.T, target @ target.T
                )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            step += 1
            loss_value = float(loss.detach())
            if log and step % 20 == 0:
                log(f"distil step {step}/{steps_total} loss {loss_value:.4f}")
    student.eval()
    size = save_int8(student, out_dir, kept_layers=kept)
    return StudentReport(
        layers=len(kept),
        kept_layers=kept,
        steps=step,
        texts=len(texts),
        seconds=round(time.perf_counter() - started, 2),
        final_loss=loss_value,
        size_bytes=size,
    )


def save_int8(model: Any, out_dir: Path, *, kept_layers: Sequence[int] = ()) -> int:
    """Write the student folder (module docstring); returns its size in bytes."""
    import torch
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    transformer = model[0]
    transformer.auto_model.config.save_pretrained(str(out_dir))
    transformer.tokenizer.save_pretrained(str(out_dir))
    tensors: dict[str, torch.Tensor] = {}
    for key, value in transformer.auto_model.state_dict().items():
        value = value.detach().float().contiguous()
        if value.ndim == 2 and value.numel() >= 4096:
            scale = value.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127.0
            tensors[key + ".q"] = torch.round(value / scale).clamp(-127, 127).to(torch.int8).contiguous()
            tensors[key + ".scale"] = scale.squeeze(1).contiguous()
        else:
            tensors[key] = value
    save_file(tensors, str(out_dir / WEIGHTS))
    meta = {
        "format": 1,
        "layers": int(transformer.auto_model.config.num_hidden_layers),
        "kept_layers": list(kept_layers),
        "pooling": "mean",
        "max_seq_length": int(transformer.max_seq_length or MAX_SEQ_LENGTH),
        "weights": "int8 per-row symmetric (matrices), float32 (vectors)",
    }
    (out_dir / STUDENT_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return folder_size(out_dir)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class StudentEmbedder:
    """Tokenizer, int8 BERT, mean pooling, L2 normalisation; thread-safe behind a lock."""

    def __init__(self, tokenizer: Any, model: Any, name: str, max_seq_length: int) -> None:
        self._tokenizer = tokenizer
        self._model = model
        self._lock = threading.Lock()
        self._max = max_seq_length
        self.name = name
        self.dim = int(model.config.hidden_size)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out: NDArray[np.float32] = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Longest first: a batch is padded to its longest text.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                encoded = self._tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self._max,
                    return_tensors="pt",
                )
                hidden = self._model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[rows] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return out


def load_student(folder: Path, name: str) -> StudentEmbedder:
    """Rebuild the student from its folder; linear layers run as dynamic int8."""
    config.offline()
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    meta = json.loads((folder / STUDENT_FILE).read_text(encoding="utf-8"))
    bert_config = AutoConfig.from_pretrained(str(folder))
    model = AutoModel.from_config(bert_config)
    stored = load_file(str(folder / WEIGHTS))
    state: dict[str, torch.Tensor] = {}
    for key, value in stored.items():
        if key.endswith(".scale"):
            continue
        if key.endswith(".q"):
            base = key[: -len(".q")]
            state[base] = value.float() * stored[base + ".scale"].unsqueeze(1)
        else:
            state[key] = value
    model.load_state_dict(state, strict=False)
    model.eval()
    model = quantize_linear(model)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    return StudentEmbedder(tokenizer, model, name, int(meta.get("max_seq_length", MAX_SEQ_LENGTH)))


def quantize_linear(model: Any) -> Any:
    """Dynamic int8 quantisation of the linear layers (torch's built-in CPU kernels).

    Per output channel: one scale per weight row. Per-tensor scales cost the student 0.03-0.04 of
    cosine to its own float embeddings; per-channel about 0.007 (measured on a one-layer MiniLM).
    """
    import torch

    quantize = getattr(getattr(torch, "ao", None), "quantization", None)
    if quantize is None or not hasattr(quantize, "quantize_dynamic"):
        return model  # pragma: no cover - kept for torch builds without the quantised kernels
    qconfig = quantize.per_channel_dynamic_qconfig
    return quantize.quantize_dynamic(model, {torch.nn.Linear: qconfig}, dtype=torch.qint8)


def _spread(total: int, keep: int) -> list[int]:
    """``keep`` layer indices spread over ``total``, always including the last one."""
    keep = max(1, min(keep, total))
    step = total / keep
    return sorted({min(total - 1, round(step * (i + 1)) - 1) for i in range(keep)})
