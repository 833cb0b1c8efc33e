"""An MLflow model registry with champion/challenger aliases and rollback, for any learned artefact.

Why MLflow: one record per trained artefact (run: parameters, metrics, data hash, git commit, the
files) and a registry of versions with aliases, readable with MLflow's own tools and server.

Store: ``MLFLOW_TRACKING_URI`` when set (a server, or any store MLflow accepts); otherwise a local
SQLite tracking and registry database ``$REPAIRDESK_DATA_DIR/mlflow/mlflow.db`` with artifacts under
``$REPAIRDESK_DATA_DIR/mlflow/artifacts``. Nothing is ever written into the source tree.

Contract of :class:`ModelRegistry`:

- :meth:`~ModelRegistry.log_version` logs one run (params, metrics, tags ``dataset_hash`` and
  ``git_commit``, the artefact folder under ``model/``) in the experiment ``repairdesk-<name>``,
  registers it as a new version of ``name`` and points the ``challenger`` alias at it.
- :meth:`~ModelRegistry.register_external` registers a version whose files already live elsewhere
  (a model shipped in a package): no copy, its ``source`` is that folder.
- :meth:`~ModelRegistry.promote` points ``champion`` at a version and pushes the previous champion on
  the model's ``champion_history`` tag; the caller decides *whether* (the evaluation gate).
- :meth:`~ModelRegistry.rollback` points ``champion`` back at the version before it (popping the
  history) and raises :class:`tools.errors.ValidationError` when there is none to return to;
  :meth:`~ModelRegistry.retire` then drops ``champion`` (for a model whose default is no model).
- :meth:`~ModelRegistry.versions` lists versions with their aliases, metrics and data hash.
- :meth:`~ModelRegistry.materialise` gives a local folder holding a version's files.

An unknown model or version raises :class:`tools.errors.NotFoundError`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tools import config
from tools.errors import NotFoundError, ValidationError

CHAMPION = "champion"
CHALLENGER = "challenger"
HISTORY_TAG = "champion_history"
ARTIFACT_PATH = "model"


class ModelVersionInfo(BaseModel):
    """One registered version as the CLI and the callers see it."""

    name: str
    version: int
    aliases: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    dataset_hash: str = ""
    git_commit: str = ""
    run_id: str = ""
    source: str = ""
    created_at: str = ""
    tags: dict[str, str] = Field(default_factory=dict)


def default_tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` (through Settings) or the SQLite store in the data directory."""
    uri = config.current().mlflow_tracking_uri
    if uri:
        return uri
    folder = config.data_dir() / "mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def git_commit() -> str:
    """The source tree's commit (with ``-dirty`` when it has changes), or ``unknown`` outside git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(config.REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(config.REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


class ModelRegistry:
    """Registry operations over one MLflow tracking/registry store (see the module docstring)."""

    def __init__(self, tracking_uri: str | None = None) -> None:
        config.offline()
        os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # offline: nothing leaves the machine
        # MLflow announces its schema migrations on INFO; the CLI's output is ours.
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        from mlflow.tracking import MlflowClient

        logging.getLogger("mlflow").setLevel(logging.WARNING)

        self.tracking_uri = tracking_uri or default_tracking_uri()
        self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    # -- writing ---------------------------------------------------------------------------------

    def log_version(
        self,
        name: str,
        artifact_dir: Path,
        *,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        dataset_hash: str,
        tags: Mapping[str, str] | None = None,
        description: str = "",
    ) -> ModelVersionInfo:
        """Log a run with the artefact folder and register it as the new ``challenger`` of ``name``."""
        if not artifact_dir.is_dir():
            raise ValidationError("artefact folder not found", source=str(artifact_dir))
        from mlflow.entities import Metric, Param, RunTag

        experiment_id = self._experiment(name)
        run_tags = {"dataset_hash": dataset_hash, "git_commit": git_commit(), **(tags or {})}
        run = self._client.create_run(experiment_id, tags=run_tags, run_name=f"{name}-{int(time.time())}")
        run_id = run.info.run_id
        try:
            now = int(time.time() * 1000)
            self._client.log_batch(
                run_id,
                metrics=[Metric(metric_key(key), float(value), now, 0) for key, value in metrics.items()],
                params=[Param(key, str(value)[:6000]) for key, value in params.items()],
                tags=[RunTag(key, str(value)) for key, value in run_tags.items()],
            )
            self._client.log_artifacts(run_id, str(artifact_dir), ARTIFACT_PATH)
        except Exception:
            self._client.set_terminated(run_id, "FAILED")
            raise
        self._client.set_terminated(run_id, "FINISHED")
        source = f"{run.info.artifact_uri}/{ARTIFACT_PATH}"
        return self._register(name, source, run_id, run_tags, description, alias=CHALLENGER)

    def register_external(
        self,
        name: str,
        source: Path,
        *,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        dataset_hash: str = "",
        tags: Mapping[str, str] | None = None,
        description: str = "",
    ) -> ModelVersionInfo:
        """Register files that already live in ``source`` (not copied), with a run for the metrics."""
        from mlflow.entities import Metric, Param, RunTag

        experiment_id = self._experiment(name)
        run_tags = {
            "dataset_hash": dataset_hash,
            "git_commit": git_commit(),
            "external": "true",
            **(tags or {}),
        }
        run = self._client.create_run(experiment_id, tags=run_tags, run_name=f"{name}-external")
        now = int(time.time() * 1000)
        self._client.log_batch(
            run.info.run_id,
            metrics=[Metric(metric_key(k), float(v), now, 0) for k, v in (metrics or {}).items()],
            params=[Param(k, str(v)) for k, v in (params or {}).items()],
            tags=[RunTag(k, str(v)) for k, v in run_tags.items()],
        )
        self._client.set_terminated(run.info.run_id, "FINISHED")
        return self._register(name, str(source), run.info.run_id, run_tags, description, alias=None)

    def log_metrics(self, name: str, version: int, metrics: Mapping[str, float]) -> None:
        """Add metrics measured later (a gate run) to the version's run."""
        from mlflow.entities import Metric

        info = self.get(name, version)
        now = int(time.time() * 1000)
        self._client.log_batch(
            info.run_id, metrics=[Metric(metric_key(k), float(v), now, 0) for k, v in metrics.items()]
        )

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        self._client.set_model_version_tag(name, str(version), key, value)

    def promote(self, name: str, version: int) -> ModelVersionInfo:
        """Make ``version`` the champion; the previous champion goes on the history for rollback."""
        target = self.get(name, version)
        current = self.alias(name, CHAMPION)
        if current is not None and current.version == version:
            return target
        history = self._history(name)
        if current is not None:
            history.append(current.version)
        self._client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))
        self._client.set_registered_model_alias(name, CHAMPION, str(version))
        challenger = self.alias(name, CHALLENGER)
        if challenger is not None and challenger.version == version:
            self._client.delete_registered_model_alias(name, CHALLENGER)
        return self.get(name, version)

    def rollback(self, name: str) -> ModelVersionInfo:
        """Return ``champion`` to the version it replaced; raises ValidationError when none did."""
        self._require_model(name)
        history = self._history(name)
        if not history:
            raise ValidationError("no previous champion to roll back to", source=name)
        previous = history.pop()
        self._client.set_registered_model_alias(name, CHAMPION, str(previous))
        self._client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))
        return self.get(name, previous)

    def retire(self, name: str) -> ModelVersionInfo | None:
        """Drop the ``champion`` alias when no earlier champion is left to roll back to (the model
        falls back to its unlearned default); returns the retired version, None when none was
        champion. Raises ValidationError while the history still has a version: use :meth:`rollback`."""
        self._require_model(name)
        if self._history(name):
            raise ValidationError("a previous champion exists: roll back to it instead", source=name)
        current = self.alias(name, CHAMPION)
        if current is not None:
            self._client.delete_registered_model_alias(name, CHAMPION)
        return current

    # -- reading ---------------------------------------------------------------------------------

    def names(self) -> list[str]:
        return sorted(m.name for m in self._client.search_registered_models())

    def versions(self, name: str | None = None) -> list[ModelVersionInfo]:
        """Every version of ``name`` (or of every model), newest first within a model."""
        out: list[ModelVersionInfo] = []
        for model in [name] if name else self.names():
            self._require_model(model)
            found = self._client.search_model_versions(f"name='{model}'")
            out.extend(self._info(v) for v in sorted(found, key=lambda v: -int(v.version)))
        return out

    def get(self, name: str, version: int) -> ModelVersionInfo:
        from mlflow.exceptions import MlflowException

        self._require_model(name)
        try:
            return self._info(self._client.get_model_version(name, str(version)))
        except MlflowException as exc:
            raise NotFoundError(f"model {name} has no version {version}", source=name) from exc

    def alias(self, name: str, alias: str) -> ModelVersionInfo | None:
        """The version behind ``alias``, or None (also when the model is not registered yet)."""
        from mlflow.exceptions import MlflowException

        try:
            return self._info(self._client.get_model_version_by_alias(name, alias))
        except MlflowException:
            return None

    def previous_champion(self, name: str) -> int | None:
        history = self._history(name)
        return history[-1] if history else None

    def materialise(self, info: ModelVersionInfo, destination: Path) -> Path:
        """A local folder with the version's files: its own folder when local, else a download."""
        local = _local_path(info.source)
        if local is not None and local.is_dir():
            return local
        if (destination / ".complete").is_file():
            return destination
        import mlflow.artifacts

        tmp = destination.with_name(destination.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        mlflow.artifacts.download_artifacts(artifact_uri=info.source, dst_path=str(tmp))
        inner = tmp / ARTIFACT_PATH
        shutil.rmtree(destination, ignore_errors=True)
        (inner if inner.is_dir() else tmp).rename(destination)
        shutil.rmtree(tmp, ignore_errors=True)
        (destination / ".complete").write_text(info.source, encoding="utf-8")
        return destination

    # -- internals -------------------------------------------------------------------------------

    def _experiment(self, name: str) -> str:
        experiment_name = f"repairdesk-{name}"
        existing = self._client.get_experiment_by_name(experiment_name)
        if existing is not None:
            return str(existing.experiment_id)
        artifacts: str | None = None
        if self.tracking_uri.startswith("sqlite:"):
            folder = Path(self.tracking_uri.removeprefix("sqlite:///")).parent / "artifacts"
            folder.mkdir(parents=True, exist_ok=True)
            artifacts = folder.resolve().as_uri()
        return str(self._client.create_experiment(experiment_name, artifact_location=artifacts))

    def _register(
        self,
        name: str,
        source: str,
        run_id: str,
        tags: Mapping[str, str],
        description: str,
        *,
        alias: str | None,
    ) -> ModelVersionInfo:
        from mlflow.exceptions import MlflowException

        try:
            self._client.get_registered_model(name)
        except MlflowException:
            self._client.create_registered_model(name)
        version = self._client.create_model_version(
            name, source, run_id=run_id, tags=dict(tags), description=description or None
        )
        if alias:
            self._client.set_registered_model_alias(name, alias, str(version.version))
        return self.get(name, int(version.version))

    def _require_model(self, name: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self._client.get_registered_model(name)
        except MlflowException as exc:
            raise NotFoundError(f"no registered model named {name!r}", source=name) from exc

    def _history(self, name: str) -> list[int]:
        from mlflow.exceptions import MlflowException

        try:
            tags = self._client.get_registered_model(name).tags
        except MlflowException:
            return []
        try:
            value = json.loads(tags.get(HISTORY_TAG, "[]"))
        except json.JSONDecodeError:
            return []
        return [int(v) for v in value] if isinstance(value, list) else []

    def _aliases(self, name: str) -> dict[int, list[str]]:
        """``{version: [aliases]}`` (model-version searches do not fill aliases in every store)."""
        from mlflow.exceptions import MlflowException

        try:
            model = self._client.get_registered_model(name)
        except MlflowException:
            return {}
        out: dict[int, list[str]] = {}
        for alias, version in (model.aliases or {}).items():
            out.setdefault(int(version), []).append(alias)
        return out

    def _info(self, version: Any) -> ModelVersionInfo:
        aliases = self._aliases(version.name).get(int(version.version), [])
        metrics: dict[str, float] = {}
        params: dict[str, str] = {}
        run_tags: dict[str, str] = {}
        if version.run_id:
            run = self._client.get_run(version.run_id)
            metrics, params, run_tags = dict(run.data.metrics), dict(run.data.params), dict(run.data.tags)
        tags = {**run_tags, **dict(version.tags or {})}
        return ModelVersionInfo(
            name=version.name,
            version=int(version.version),
            aliases=sorted(aliases),
            metrics=metrics,
            params=params,
            dataset_hash=tags.get("dataset_hash", ""),
            git_commit=tags.get("git_commit", ""),
            run_id=version.run_id or "",
            source=version.source or "",
            created_at=time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(version.creation_timestamp or 0) / 1000)
            ),
            tags={k: v for k, v in tags.items() if not k.startswith("mlflow.")},
        )


def metric_key(name: str) -> str:
    """MLflow's metric names allow letters, digits, ``_-. :/``: ``recall@5`` is logged as ``recall_at_5``."""
    return re.sub(r"[^A-Za-z0-9_\-. :/]", "_", name.replace("@", "_at_"))


def _local_path(source: str) -> Path | None:
    if source.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(source).path))
    if source.startswith("/"):
        return Path(source)
    return None
