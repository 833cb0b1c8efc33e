"""Decided cases from a corrections export become calibrator samples labelled by what people applied."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evals import datasets
from evals.base import SuiteOptions
from evals.calibration import decided_samples


def _export(folder: Path, records: list[dict[str, object]]) -> Path:
    folder.mkdir(parents=True)
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    (folder / "corrections.jsonl").write_bytes(data)
    manifest = {"file": "corrections.jsonl", "sha256": hashlib.sha256(data).hexdigest(), "version": 1}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.mark.slow
def test_replayed_decisions_are_labelled_by_the_applied_outcome(tmp_path: Path) -> None:
    row = next(r for r in datasets.load("agent_cases")[0] if r["id"] == "ac01-c1001-typo")
    approved = {"case_id": "D-1", "case": row["case"], "label": {"decision": "approve", **row["expected"]}}
    rejected = {
        "case_id": "D-2",
        "case": row["case"],
        "label": {"decision": "reject", "action": "escalate", "changes": []},
    }
    no_action_named = {"case_id": "D-3", "case": row["case"], "label": {"decision": "reject", "action": None}}
    folder = _export(tmp_path / "v1", [approved, rejected, no_action_named])
    samples = decided_samples(SuiteOptions(progress=False, corrections=folder))
    assert [s.label for s in samples] == [1, 0]
    assert all(s.features["action_repair"] == 1.0 and s.group.startswith("decided:") for s in samples)
