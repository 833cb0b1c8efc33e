"""Train, gate, promote and roll back the confidence calibrator through the MLflow registry.

``train``: fit on the perturbed set's train split (plus decided cases when exported), score on the
held-out split, log and register the artefact as the ``challenger`` (dataset manifest hash, params,
metrics, git commit). ``promote``: challenger against champion (the committed artefact when no
champion is registered yet) on the same held-out samples: the challenger must meet the floors
(ECE ≤ 0.05, AUROC ≥ 0.95) and must not be worse on paired per-case Brier loss (upper end of the
paired bootstrap interval ≤ :data:`BRIER_TOLERANCE`); only then does it become the champion and
serve (``$REPAIRDESK_DATA_DIR/models/calibrator/active.json``). ``rollback`` serves the previous
champion again. ``shadow`` runs the challenger beside the champion on live triage.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evals.base import SuiteOptions
from evals.calibration import (
    AUROC_FLOOR,
    ECE_FLOOR,
    Sample,
    collect,
    cross_fitted,
    decided_samples,
    evaluate,
    fit,
)
from evals.generators import perturbed
from evals.stats import paired_bootstrap
from tools import config
from tools.calibration import Calibrator
from tools.calibration.model import ACTIVE, SHADOW, committed_artefact, set_pointer
from tools.errors import ValidationError
from tools.registry import ModelRegistry
from tools.registry.mlflow_registry import ModelVersionInfo

NAME = "calibrator"
ARTEFACT = "calibrator.json"
BRIER_TOLERANCE = 0.005


def _samples(split: str, limit: int | None) -> tuple[list[Sample], dict[str, Any]]:
    rows, manifest = perturbed.load(split)
    if limit:  # whole source cases, so a tiny run still keeps cases together
        keep = sorted({r["source_id"] for r in rows})[: max(1, limit)]
        rows = [r for r in rows if r["source_id"] in keep]
        manifest = {**manifest, "count": len(rows), "sha256": perturbed.digest(rows), "limit": limit}
    return collect(rows, SuiteOptions(progress=False)), manifest


def train(
    limit: int | None = None,
    c: float = 1.0,
    log: Callable[[str], None] = lambda _m: None,
    cross_fit: int = 0,
) -> dict[str, Any]:
    """Fit, score and register a challenger; returns its version and held-out metrics.

    ``cross_fit`` K > 0 adds the grouped K-fold cross-fitted figure over both splits
    (:func:`evals.calibration.cross_fitted`), logged as ``crossfit.*`` beside ``heldout.*``.
    """
    log("triaging the perturbed train split")
    samples, manifest = _samples("train", limit)
    decided = decided_samples(SuiteOptions(progress=False))
    log(f"fitting on {len(samples)} perturbed + {len(decided)} decided samples")
    model = fit(samples + decided, c=c)
    log("triaging the held-out split")
    held, held_manifest = _samples("held-out", limit)
    report = evaluate(model, held)
    metrics = {f"heldout.{k}": v for k, v in report["overall"].items()}
    crossed = None
    if cross_fit:
        log(f"cross-fitting over both splits ({cross_fit} folds by source case)")
        crossed = cross_fitted(samples + held + decided, folds=cross_fit, c=c)
        metrics |= {f"crossfit.{k}": v for k, v in crossed["overall"].items()}
    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / ARTEFACT)
        (Path(folder) / "heldout.json").write_text(
            json.dumps({k: report[k] for k in ("overall", "per_code", "bins")})
        )
        info = ModelRegistry().log_version(
            NAME,
            Path(folder),
            params={**model.meta["params"], "features": len(model.features), "decided": len(decided)},
            metrics=metrics,
            dataset_hash=manifest["sha256"],
            tags={
                "kind": "calibrator",
                "calibrator_version": model.version,
                "heldout_hash": held_manifest["sha256"],
            },
        )
    return {
        "version": info.version,
        "calibrator": model.version,
        "metrics": report["overall"],
        "dataset": manifest,
        **({"cross_fitted": crossed} if crossed else {}),
    }


def _load(registry: ModelRegistry, info: ModelVersionInfo) -> tuple[Calibrator, Path]:
    folder = registry.materialise(info, config.data_dir() / "models" / NAME / f"v{info.version}")
    return Calibrator.load(folder / ARTEFACT), folder / ARTEFACT


def gate(challenger: Calibrator, champion: Calibrator, samples: list[Sample]) -> dict[str, Any]:
    """Challenger against champion on the same samples: floors, then paired Brier loss."""
    ours, theirs = evaluate(challenger, samples), evaluate(champion, samples)
    labels = [s.label for s in samples]
    loss = lambda probs: [(p - y) ** 2 for p, y in zip(probs, labels, strict=True)]  # noqa: E731
    diff = paired_bootstrap(loss(theirs["probabilities"]), loss(ours["probabilities"]))
    reasons = []
    if not ours["overall"]["ece"] <= ECE_FLOOR:
        reasons.append(f"ECE {ours['overall']['ece']:.4f} > {ECE_FLOOR}")
    if not ours["overall"]["auroc"] >= AUROC_FLOOR:
        reasons.append(f"AUROC {ours['overall']['auroc']:.4f} < {AUROC_FLOOR}")
    if diff.ci95[1] > BRIER_TOLERANCE:
        reasons.append(
            f"Brier worse than the champion's: paired difference {diff.value:+.4f}, "
            f"95% CI high {diff.ci95[1]:+.4f}"
        )
    return {
        "passed": not reasons,
        "reasons": reasons,
        "challenger": ours["overall"],
        "champion": theirs["overall"],
        "brier_difference": diff.as_dict(),
    }


def promote(version: int | None = None, limit: int | None = None) -> dict[str, Any]:
    """Promote the challenger (or ``version``) only if :func:`gate` passes; serve it when it does."""
    registry = ModelRegistry()
    info = registry.get(NAME, version) if version else registry.alias(NAME, "challenger")
    if info is None:
        raise ValidationError(
            "no challenger to promote; run `repairdesk model train calibrator`", source=NAME
        )
    challenger, path = _load(registry, info)
    current = registry.alias(NAME, "champion")
    champion = _load(registry, current)[0] if current else Calibrator.load(committed_artefact())
    held, _ = _samples("held-out", limit)
    verdict = gate(challenger, champion, held)
    registry.log_metrics(NAME, info.version, {f"gate.{k}": v for k, v in verdict["challenger"].items()})
    if verdict["passed"]:
        registry.promote(NAME, info.version)
        set_pointer(ACTIVE, challenger.version, path)
    return {"version": info.version, "champion": current.version if current else None, **verdict}


def rollback() -> ModelVersionInfo:
    """Serve the previous champion again (the committed artefact when the registry has none left)."""
    registry = ModelRegistry()
    info = registry.rollback(NAME)
    model, path = _load(registry, info)
    set_pointer(ACTIVE, model.version, path)
    return info


def shadow(off: bool = False) -> str:
    """Run the registered challenger beside the champion on live triage (or stop doing so)."""
    if off:
        set_pointer(SHADOW, None, None)
        return "shadow off"
    registry = ModelRegistry()
    info = registry.alias(NAME, "challenger")
    if info is None:
        raise ValidationError("no challenger to shadow", source=NAME)
    model, path = _load(registry, info)
    set_pointer(SHADOW, model.version, path)
    return f"{NAME} v{info.version} ({model.version}) runs in shadow"
