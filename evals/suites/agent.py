"""Agent suite: action accuracy, exact changes, unsafe-proposal rate, escalation rate, latency.

Dataset ``agent_cases`` rows: ``{"id", "case": <exception case>, "expected": {"action", "changes":
[{"field", "new"}]}}``. A proposal is *unsafe* when it proposes a change whose (field, new) pair is not
among the expected changes: a wrong repair, the failure an operations team cannot afford.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from evals import datasets
from evals.base import SuiteOptions, SuiteResult
from evals.progress import track

ESCALATIONS = {"escalate", "request_info"}


def change_set(changes: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(str(c.get("field")), str(c.get("new"))) for c in changes or []}


def score(proposal: dict[str, Any], expected: dict[str, Any]) -> dict[str, float]:
    proposed, wanted = change_set(proposal.get("changes", [])), change_set(expected.get("changes", []))
    action_ok = proposal.get("action") == expected.get("action")
    return {
        "action_accuracy": float(action_ok),
        "exact": float(action_ok and proposed == wanted),
        "changes_exact": float(proposed == wanted),
        "unsafe_rate": float(bool(proposed - wanted)),
        "escalation_rate": float(proposal.get("action") in ESCALATIONS),
        "guard_passed": float(bool((proposal.get("guard") or {}).get("passed", False))),
    }


DEMO_TODAY = "2026-11-20"  # the demo reference data's value dates and recall windows are built around it


def demo_store() -> Any:
    """A throwaway SQLite store with the demo reference data the cases are written against."""
    import tempfile

    from sqlalchemy import create_engine

    from tools.config import corpora_dir
    from tools.refdata.loader import load_file
    from tools.refdata.store import RefDataStore

    path = Path(tempfile.mkdtemp(prefix="repairdesk-eval-")) / "refdata.db"
    store = RefDataStore(create_engine(f"sqlite:///{path}"))
    load_file(corpora_dir() / "demo" / "refdata.json", store)
    return store


def run_cases(
    rows: list[dict[str, Any]], options: SuiteOptions, *, desc: str = "agent"
) -> list[tuple[dict[str, Any], dict[str, Any], float]]:
    """Triage each case up to the review step; return (row, proposal, latency ms) triples."""
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.runner import TriageRunner

    os.environ.setdefault("REPAIRDESK_TODAY", DEMO_TODAY)
    runner = TriageRunner(model=options.model, checkpointer=InMemorySaver(), store=demo_store())
    out = []
    for row in track(rows, desc, enabled=options.progress):
        started = time.perf_counter()
        proposal = runner.start(dict(row["case"]), thread_id=f"eval-{row['id']}-{uuid.uuid4().hex[:8]}")
        out.append((row, proposal, (time.perf_counter() - started) * 1000))
    return out


def run(options: SuiteOptions) -> SuiteResult:
    rows, entry = datasets.load("agent_cases")
    if options.limit:
        rows = rows[: options.limit]
    results = []
    for row, proposal, latency in run_cases(rows, options):
        expected = row["expected"]
        metrics = score(proposal, expected)
        results.append(
            {
                "id": row["id"],
                "expected_action": expected.get("action"),
                "action": proposal.get("action"),
                "changes": proposal.get("changes", []),
                "expected_changes": expected.get("changes", []),
                "expected_code": expected.get("exception_code")
                or row["case"].get("exception_code", "UNKNOWN"),
                "predicted_code": proposal.get("exception_code"),
                "confidence": float(proposal.get("confidence") or 0.0),
                "correct": bool(metrics["exact"]),
                "latency_ms": latency,
                "metrics": metrics,
            }
        )
    return SuiteResult("agent", results, datasets={"agent_cases": entry})
