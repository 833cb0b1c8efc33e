"""Corrections suite: replay the cases people decided through the current agent, score it against them.

Rows come from an export of ``repairdesk eval export-corrections`` (``SuiteOptions.corrections``, else
the latest version under the data directory): one record per case with its gold ``label``, derived
from the applied outcome (``app.services.corrections``). Each case is triaged again up to the review
step and scored with the agent suite's metrics against the label's action and changes; a rejection
without a correct action scores only ``repeats_rejected`` (the agent proposes again what was
rejected). Metrics are also broken down by segment. Replays run against ``SuiteOptions.refdata``
(default: the demo reference data), so decided cases from another book of customers need it named.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from agents.contract import Proposal
from evals.base import SuiteOptions, SuiteResult
from evals.datasets import DatasetError
from evals.segments import breakdown, segments_of
from evals.suites.agent import change_set, run_cases, score
from tools.errors import NotFoundError

NAME = "corrections"


def dataset_dir(options: SuiteOptions) -> Path | None:
    """The export version to replay: the one named, else the latest under the data directory."""
    from app.services.corrections import default_root, latest
    from app.settings import Settings

    if options.corrections is not None:
        named = options.corrections
        return named if (named / "manifest.json").exists() else latest(named)
    return latest(default_root(Settings().data_dir))


def load(options: SuiteOptions) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    folder = dataset_dir(options)
    if folder is None:
        raise NotFoundError(
            "no corrections export found; run `repairdesk eval export-corrections` first",
            source=str(options.corrections or "corrections"),
        )
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    data = (folder / manifest["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest.get("sha256"):
        raise DatasetError(
            f"{manifest['file']} does not match its manifest's sha256; export again rather than edit it",
            source=str(folder),
        )
    text = data.decode("utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    entry = {k: manifest[k] for k in ("version", "sha256", "count", "date_range", "origin") if k in manifest}
    return rows, entry | {"file": str(folder / manifest["file"])}


def exists(options: SuiteOptions) -> bool:
    return dataset_dir(options) is not None


def _score(proposal: Proposal, label: dict[str, Any]) -> dict[str, float | None]:
    rejected = label.get("decision") == "reject"
    repeats = (
        float(
            proposal.action == label.get("rejected_action")
            and change_set(proposal.changes) == change_set(label.get("rejected_changes", []))
        )
        if rejected
        else None
    )
    if label.get("action") is None:  # a rejection that named no correct action
        return {"repeats_rejected": repeats}
    return {**score(proposal, label), "repeats_rejected": repeats}


def run(options: SuiteOptions) -> SuiteResult:
    records, entry = load(options)
    # Records with only field-level document corrections (an undecided case) have no case label.
    records = [r for r in records if r.get("label")]
    if options.limit:
        records = records[: options.limit]
    rows = [{"id": r["case_id"], "case": r["case"], "expected": r["label"]} for r in records]
    results = []
    for row, proposal, latency in run_cases(rows, options, desc=NAME, refdata=options.refdata):
        label = row["expected"]
        metrics = _score(proposal, label)
        results.append(
            {
                "id": row["id"],
                "decision": label.get("decision"),
                "expected_action": label.get("action"),
                "action": proposal.action,
                "changes": [c.dump() for c in proposal.changes],
                "expected_changes": label.get("changes", []),
                "latency_ms": latency,
                "segments": segments_of(row["case"]),
                "metrics": metrics,
            }
        )
    return SuiteResult(NAME, results, datasets={NAME: entry}, extras={"segments": breakdown(results)})
