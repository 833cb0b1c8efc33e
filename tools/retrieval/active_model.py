"""Which retriever model serves queries, and where its index lives: keyed by the model version.

The registry (tools/registry) records versions and aliases; this is the deployed state that the
search path reads without importing MLflow: ``$REPAIRDESK_DATA_DIR/models/retriever/active.json``
``{"name", "version", "path"}``. No file means the shipped base model (all-MiniLM-L6-v2 from its
package) and the classic index folder ``$REPAIRDESK_DATA_DIR/index`` built through the committed
embedding cache, so a fresh clone works with no registry at all.

Every other model gets its own index folder ``$REPAIRDESK_DATA_DIR/indexes/<slug of its name>``: the
name carries the registry version and run, so switching models (promotion, rollback) never reuses
vectors made by another model, and switching back finds the earlier index still built.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from tools import config
from tools.errors import ValidationError
from tools.retrieval.fusion import FusionWeights
from tools.retrieval.minilm import MODEL_NAME

POINTER = "active.json"


class ActiveModel(BaseModel):
    name: str  # the embedder name recorded in index manifests and embedding-cache keys
    version: int
    path: str  # a local folder holding the model files
    fusion: dict[str, float] | None = None  # FusionWeights re-tuned for this model (tuning half)


def models_dir() -> Path:
    return config.data_dir() / "models" / "retriever"


def active_model() -> ActiveModel | None:
    """The promoted model, or None for the shipped base model."""
    path = models_dir() / POINTER
    if not path.is_file():
        return None
    try:
        return ActiveModel.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, PydanticValidationError) as exc:
        raise ValidationError(
            f"unreadable active retriever pointer ({exc}); run `repairdesk model rollback retriever`",
            source=str(path),
        ) from exc


def set_active(model: ActiveModel | None) -> None:
    """Point queries at ``model`` (None: the base model). Written atomically."""
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / POINTER
    if model is None:
        target.unlink(missing_ok=True)
        return
    tmp = target.with_name(POINTER + ".tmp")
    tmp.write_text(json.dumps(model.model_dump(), indent=1), encoding="utf-8")
    tmp.replace(target)


def pointer_stamp() -> tuple[int, int] | None:
    """(mtime in ns, size) of the pointer file, None when absent: a cheap "has promotion changed?"
    probe for long-running processes (tools/retrieval/search.py ``FollowingSearch``)."""
    try:
        stat = (models_dir() / POINTER).stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def active_model_name() -> str:
    model = active_model()
    return model.name if model is not None else MODEL_NAME


def index_dir_for(model_name: str) -> Path:
    """The index folder of a model: the classic one for the base model, a keyed one otherwise."""
    if model_name == MODEL_NAME:
        return config.data_dir() / "index"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model_name).strip("-")
    return config.data_dir() / "indexes" / slug


def fusion_weights_for(model_name: str) -> FusionWeights | None:
    """The fusion weights tuned for ``model_name`` when it is the active model, else None (defaults)."""
    model = active_model()
    if model is None or model.name != model_name or not model.fusion:
        return None
    defaults = FusionWeights()
    fields = {k: type(getattr(defaults, k))(v) for k, v in model.fusion.items() if hasattr(defaults, k)}
    return replace(defaults, **fields)
