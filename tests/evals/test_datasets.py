"""Datasets are versioned: the manifest matches every file, and changes bump the version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import datasets


def test_manifest_matches_committed_datasets() -> None:
    manifest = datasets.read_manifest()["datasets"]
    assert manifest, "no datasets recorded"
    for name, entry in manifest.items():
        rows, loaded = datasets.load(name)  # raises when the file changed without a new version
        assert len(rows) == entry["count"] == loaded["count"]
        assert entry["origin"] in {"hand-written", "generated", "analyst-decisions", "mixed"}
    on_disk = {p.stem for p in datasets.DATASETS_DIR.glob("*.jsonl")}
    assert on_disk <= set(manifest), f"datasets missing from the manifest: {on_disk - set(manifest)}"


def test_append_bumps_version_and_detects_tampering(tmp_path: Path) -> None:
    first = datasets.append("corrections", [{"id": "a"}], origin="analyst-decisions", directory=tmp_path)
    second = datasets.append("corrections", [{"id": "b"}], origin="analyst-decisions", directory=tmp_path)
    assert (first["version"], first["count"]) == (1, 1)
    assert (second["version"], second["count"]) == (2, 2)
    rows, _ = datasets.load("corrections", tmp_path)
    assert [r["id"] for r in rows] == ["a", "b"]
    with (tmp_path / "corrections.jsonl").open("a") as handle:
        handle.write(json.dumps({"id": "sneaky"}) + "\n")
    with pytest.raises(datasets.DatasetError, match="changed since manifest version 2"):
        datasets.load("corrections", tmp_path)
