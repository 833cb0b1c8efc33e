"""The MLflow registry on a fresh data directory: register, aliases, promote, roll back, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.errors import NotFoundError, ValidationError
from tools.registry import CHALLENGER, CHAMPION, ModelRegistry
from tools.registry.mlflow_registry import default_tracking_uri, metric_key


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for the module (creating MLflow's schema takes seconds); each test its own model."""
    return tmp_path_factory.mktemp("registry") / "var"


@pytest.fixture
def registry(store: Path, tool_config: Any) -> ModelRegistry:
    tool_config(data_dir=store, mlflow_tracking_uri=None)
    return ModelRegistry()


def _artefact(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / f"art-{text}"
    folder.mkdir()
    (folder / "weights.txt").write_text(text, encoding="utf-8")
    return folder


def test_the_default_store_is_sqlite_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.settings import Settings, configure_process  # how a process reads its environment

    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    configure_process(Settings())
    assert default_tracking_uri() == f"sqlite:///{(tmp_path / 'var' / 'mlflow' / 'mlflow.db').resolve()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/db.sqlite")
    configure_process(Settings())
    assert default_tracking_uri() == "sqlite:////elsewhere/db.sqlite"


def test_log_register_promote_and_roll_back(registry: ModelRegistry, store: Path, tmp_path: Path) -> None:
    first = registry.log_version(
        "calibrator", _artefact(tmp_path, "one"), params={"c": 1.0}, metrics={"ece": 0.04}, dataset_hash="d1"
    )
    assert first.version == 1 and first.aliases == [CHALLENGER]
    assert first.dataset_hash == "d1" and first.git_commit and first.params["c"] == "1.0"
    assert first.metrics["ece"] == pytest.approx(0.04)
    # The files went into the artefact store under the data directory, not left where they were.
    stored = registry.materialise(first, tmp_path / "unused")
    assert (stored / "weights.txt").read_text() == "one"
    assert str(store) in str(stored)

    registry.promote("calibrator", 1)
    second = registry.log_version(
        "calibrator", _artefact(tmp_path, "two"), params={}, metrics={"recall@5": 0.9}, dataset_hash="d2"
    )
    assert second.metrics == {"recall_at_5": pytest.approx(0.9)}  # MLflow's names allow no '@'
    assert registry.alias("calibrator", CHAMPION).version == 1  # type: ignore[union-attr]
    assert registry.alias("calibrator", CHALLENGER).version == 2  # type: ignore[union-attr]

    registry.promote("calibrator", 2)
    listed = {v.version: v.aliases for v in registry.versions("calibrator")}
    assert listed == {2: [CHAMPION], 1: []}
    assert registry.previous_champion("calibrator") == 1

    back = registry.rollback("calibrator")
    assert back.version == 1
    assert {v.version: v.aliases for v in registry.versions("calibrator")} == {2: [], 1: [CHAMPION]}
    with pytest.raises(ValidationError, match="no previous champion"):
        registry.rollback("calibrator")


def test_external_versions_are_not_copied(registry: ModelRegistry, tmp_path: Path) -> None:
    folder = _artefact(tmp_path, "shipped")
    info = registry.register_external("retriever", folder, tags={"kind": "base"})
    assert info.aliases == [] and info.tags["kind"] == "base"
    assert registry.materialise(info, tmp_path / "x") == folder


def test_unknown_models_and_versions_are_named(registry: ModelRegistry, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        registry.versions("nope")
    with pytest.raises(NotFoundError):
        registry.rollback("nope")
    registry.log_version("m", _artefact(tmp_path, "a"), params={}, metrics={}, dataset_hash="")
    with pytest.raises(NotFoundError, match="no version 9"):
        registry.get("m", 9)
    with pytest.raises(ValidationError, match="artefact folder not found"):
        registry.log_version("m", tmp_path / "missing", params={}, metrics={}, dataset_hash="")
    assert registry.alias("m", CHAMPION) is None


def test_metric_key_keeps_mlflow_names_valid() -> None:
    assert metric_key("heldout.hybrid.recall@5") == "heldout.hybrid.recall_at_5"
    assert metric_key("a#b") == "a_b"


def test_retire_drops_the_champion_only_when_no_earlier_one_is_left(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    first = registry.log_version("retired", _artefact(tmp_path, "a"), params={}, metrics={}, dataset_hash="h")
    second = registry.log_version(
        "retired", _artefact(tmp_path, "b"), params={}, metrics={}, dataset_hash="h"
    )
    registry.promote("retired", first.version)
    registry.promote("retired", second.version)
    with pytest.raises(ValidationError):
        registry.retire("retired")  # v1 is there to roll back to
    assert registry.rollback("retired").version == first.version
    retired = registry.retire("retired")
    assert retired is not None and retired.version == first.version
    assert registry.alias("retired", "champion") is None and registry.retire("retired") is None
    with pytest.raises(NotFoundError):
        registry.retire("never-registered")
