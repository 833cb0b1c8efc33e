"""Versioned evaluation datasets: JSONL files under ``evals/datasets/`` plus ``manifest.json``.

The manifest records, per dataset, its file, version, row count, SHA-256 and origin
(``hand-written``, ``generated`` or ``analyst-decisions``). Loading checks the hash, so a run always
says exactly which data it measured; changing a file without bumping the manifest is an error.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tools.config import REPO_ROOT
from tools.errors import ValidationError

# The datasets in the source tree; REPAIRDESK_EVAL_DATASETS points a run elsewhere (datasets_dir).
DATASETS_DIR = REPO_ROOT / "evals" / "datasets"
MANIFEST = "manifest.json"
Origin = Literal["hand-written", "generated", "analyst-decisions", "mixed"]


class DatasetError(ValidationError):
    code = "dataset_error"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else hashlib.sha256(b"").hexdigest()


def datasets_dir() -> Path:
    """The folder a run reads: ``REPAIRDESK_EVAL_DATASETS`` (tests use tiny hand-checked ones), else
    the source tree's."""
    from app.settings import Settings

    return Settings().eval_datasets or DATASETS_DIR


def read_manifest(directory: Path = DATASETS_DIR) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.exists():
        return {"datasets": {}}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def write_manifest(manifest: dict[str, Any], directory: Path = DATASETS_DIR) -> None:
    manifest["datasets"] = dict(sorted(manifest["datasets"].items()))
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if not path.exists():
        return rows
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"line {number}: invalid JSON ({exc.msg})", source=str(path)) from exc
    return rows


def load(
    name: str, directory: Path | None = None, *, verify: bool = True
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of dataset ``name`` and its manifest entry; raises DatasetError when the hash disagrees."""
    directory = directory or datasets_dir()
    entry = read_manifest(directory)["datasets"].get(name)
    if entry is None:
        raise DatasetError(f"dataset {name!r} is not in {directory / MANIFEST}")
    path = directory / entry["file"]
    if verify and _digest(path) != entry["sha256"]:
        raise DatasetError(
            f"{entry['file']} changed since manifest version {entry['version']}; "
            "run `repairdesk eval manifest --update` to record a new version",
            source=name,
        )
    return read_jsonl(path), entry


def update(
    name: str,
    *,
    origin: Origin | None = None,
    description: str | None = None,
    directory: Path = DATASETS_DIR,
) -> dict[str, Any]:
    """Record the current content of ``name`` in the manifest, bumping the version when it changed."""
    manifest = read_manifest(directory)
    entry = manifest["datasets"].get(name) or {"file": f"{name}.jsonl", "version": 0, "sha256": None}
    path = directory / entry["file"]
    digest = _digest(path)
    if digest != entry.get("sha256"):
        entry["version"] = int(entry.get("version", 0)) + 1
        entry["sha256"] = digest
        entry["updated_at"] = datetime.now(UTC).replace(microsecond=0).isoformat()
    entry["count"] = len(read_jsonl(path))
    if origin:
        entry["origin"] = origin
    if description:
        entry["description"] = description
    entry.setdefault("origin", "hand-written")
    manifest["datasets"][name] = entry
    write_manifest(manifest, directory)
    return dict(entry)


def append(
    name: str, rows: list[dict[str, Any]], *, origin: Origin, directory: Path = DATASETS_DIR
) -> dict[str, Any]:
    """Append rows to a dataset (creating it) and record the new version in the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    entry = read_manifest(directory)["datasets"].get(name)
    path = directory / (entry["file"] if entry else f"{name}.jsonl")
    with path.open("a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    return update(name, origin=origin if not entry else entry.get("origin", origin), directory=directory)
