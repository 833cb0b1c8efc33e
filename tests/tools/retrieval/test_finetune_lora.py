"""LoRA fine-tuning: adapters trained alone, merged into the weights, a plain model folder saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.retrieval.training_data import TrainingPair


@pytest.mark.slow
def test_lora_trains_adapters_only_and_saves_merged_weights(tmp_path: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    from app.cli.retriever_models import base_model_path
    from tools.retrieval.finetune import FinetuneConfig, finetune, truncate_layers

    pairs = [
        TrainingPair(
            anchor=f"question {i} about an iban",
            positive=f"section {i}: repair the iban",
            positive_id=f"c{i}",
            source="question",
        )
        for i in range(8)
    ]
    cfg = FinetuneConfig(method="lora", layers=1, max_steps=2, batch_size=4, learning_rate=1e-2)
    report = finetune(base_model_path(), pairs, tmp_path / "m", cfg)
    assert 0 < report.trainable_parameters < report.total_parameters / 20  # adapters only
    trained = SentenceTransformer(str(tmp_path / "m"), device="cpu")
    trained_model: Any = trained[0].auto_model  # torch's stubs: Tensor | Module
    state = trained_model.state_dict()
    assert not [k for k in state if "lora" in k]  # merged: serving needs no peft
    base = SentenceTransformer(str(base_model_path()), device="cpu")
    base_model: Any = base[0].auto_model
    truncate_layers(base_model, 1)
    key = "encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(state[key], base_model.state_dict()[key])  # the adapter moved it
    assert trained.max_seq_length == base.max_seq_length  # served at the base model's length
