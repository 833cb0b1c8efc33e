"""Agent suite: action accuracy, exact changes, unsafe-proposal rate, escalation rate, latency.

Dataset ``agent_cases`` rows: ``{"id", "case": <exception case>, "expected": {"action", "changes":
[{"field", "new"}]}}``. A proposal is *unsafe* when it proposes a change whose (field, new) pair is not
among the expected changes: a wrong repair, the failure an operations team cannot afford.

Besides ``exact`` over all rows, each row carries ``exact_repair_only`` (rows where a fix is the only
right answer: ``repair_only`` in the row, else an expected ``repair``) and ``exact_held_out`` (the
half of the ids that :func:`evals.retrieval_eval.split_of` puts in ``held-out``), so one run reports
the team's own set, its held-out half and the repair-only share side by side. The unseen set
(``evals/suites/agent_unseen.py``) is scored by the same code on its own reference data.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field, JsonValue

from agents.contract import Change, Proposal
from evals import datasets
from evals.base import SuiteOptions, SuiteResult
from evals.progress import track
from evals.segments import breakdown, segments_of

ESCALATIONS = {"escalate", "request_info"}


class Triaged(Proposal):
    """A proposal as the suites read it (validated against the contract when the run returns it),
    with its run's calibrator record, which is no part of the proposal's JSON."""

    calibration: dict[str, JsonValue] | None = Field(default=None, exclude=True)


def change_set(changes: list[Change] | list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(field, new) pairs of proposed changes or of a label's (plain JSON) changes."""
    pairs = (c.dump() if isinstance(c, Change) else c for c in changes or [])
    return {(str(c.get("field")), str(c.get("new"))) for c in pairs}


def score(proposal: Proposal, expected: dict[str, Any]) -> dict[str, float]:
    proposed, wanted = change_set(proposal.changes), change_set(expected.get("changes", []))
    action_ok = proposal.action == expected.get("action")
    return {
        "action_accuracy": float(action_ok),
        "exact": float(action_ok and proposed == wanted),
        "changes_exact": float(proposed == wanted),
        "unsafe_rate": float(bool(proposed - wanted)),
        "escalation_rate": float(proposal.action in ESCALATIONS),
        "guard_passed": float(proposal.guard is not None and proposal.guard.passed),
    }


DEMO_TODAY = "2026-11-20"  # the demo reference data's value dates and recall windows are built around it


def demo_store(refdata: Path | None = None) -> Any:
    """A throwaway SQLite store with the reference data the cases are written against (demo data
    unless ``refdata`` names another load file)."""
    import tempfile

    from sqlalchemy import create_engine

    from tools.config import corpora_dir
    from tools.refdata.loader import load_file
    from tools.refdata.store import RefDataStore

    path = Path(tempfile.mkdtemp(prefix="repairdesk-eval-")) / "refdata.db"
    store = RefDataStore(create_engine(f"sqlite:///{path}"))
    load_file(refdata or corpora_dir() / "demo" / "refdata.json", store)
    return store


def run_cases(
    rows: list[dict[str, Any]], options: SuiteOptions, *, desc: str = "agent", refdata: Path | None = None
) -> list[tuple[dict[str, Any], Triaged, float]]:
    """Triage each case up to the review step; return (row, proposal, latency ms) triples.

    Each proposal is read through the contract: one that does not fit it fails the run, loudly."""
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.runner import TriageRunner

    runner = TriageRunner(model=options.model, checkpointer=InMemorySaver(), store=demo_store(refdata))
    out = []
    with demo_clock():
        for row in track(rows, desc, enabled=options.progress):
            started = time.perf_counter()
            thread_id = f"eval-{row['id']}-{uuid.uuid4().hex[:8]}"
            proposal = Triaged.model_validate(runner.start(dict(row["case"]), thread_id=thread_id))
            latency = (time.perf_counter() - started) * 1000
            if options.keep_calibration:  # the calibrator's features, for training it (not in the proposal)
                values = runner.graph.get_state({"configurable": {"thread_id": thread_id}}).values
                proposal.calibration = values.get("calibration")
            out.append((row, proposal, latency))
    return out


@contextmanager
def demo_clock() -> Iterator[None]:
    """Run on the demo's day, unless the process was given a fixed day (``REPAIRDESK_TODAY``)."""
    from tools import config
    from tools.clock import FixedClock

    if isinstance(config.current().clock, FixedClock):
        yield
        return
    with config.override(clock=FixedClock(date.fromisoformat(DEMO_TODAY))):
        yield


def repair_only(row: dict[str, Any]) -> bool:
    """A fix (repair, applying cash, returning a duplicate) is the only right answer for this row."""
    flag = row.get("repair_only")
    return bool(flag) if flag is not None else row["expected"].get("action") == "repair"


def score_rows(
    rows: list[dict[str, Any]], options: SuiteOptions, *, desc: str, refdata: Path | None = None
) -> list[dict[str, Any]]:
    from evals.retrieval_eval import split_of

    results = []
    for row, proposal, latency in run_cases(rows, options, desc=desc, refdata=refdata):
        expected = row["expected"]
        metrics: dict[str, float | None] = dict(score(proposal, expected))
        metrics["exact_repair_only"] = metrics["exact"] if repair_only(row) else None
        metrics["exact_held_out"] = metrics["exact"] if split_of(row["id"]) == "held-out" else None
        results.append(
            {
                "id": row["id"],
                "expected_action": expected.get("action"),
                "action": proposal.action,
                "changes": [c.dump() for c in proposal.changes],
                "expected_changes": expected.get("changes", []),
                "expected_code": expected.get("exception_code")
                or row["case"].get("exception_code", "UNKNOWN"),
                "predicted_code": proposal.exception_code,
                "confidence": float(proposal.confidence or 0.0),
                "correct": bool(metrics["exact"]),
                "repair_only": repair_only(row),
                "latency_ms": latency,
                "segments": segments_of(row["case"]),
                "metrics": metrics,
                **({"calibration": proposal.calibration} if options.keep_calibration else {}),
            }
        )
    return results


def run(options: SuiteOptions) -> SuiteResult:
    rows, entry = datasets.load("agent_cases")
    if options.limit:
        rows = rows[: options.limit]
    results = score_rows(rows, options, desc="agent")
    return SuiteResult(
        "agent", results, datasets={"agent_cases": entry}, extras={"segments": breakdown(results)}
    )
