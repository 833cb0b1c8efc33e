"""Run evaluation suites offline and write a run directory."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.base import SuiteOptions, SuiteResult, write_run
from tools.config import offline
from tools.errors import ValidationError

SUITES = ("extraction", "retrieval", "agent", "rag")
# Measure-only suites: never part of `all` (nobody tunes on them by running everything).
EXTRA_SUITES = ("agent-unseen",)


def expand(suite: str) -> list[str]:
    if suite == "all":
        return list(SUITES)
    if suite not in (*SUITES, *EXTRA_SUITES):
        choices = ", ".join((*SUITES, *EXTRA_SUITES, "all"))
        raise ValidationError(f"unknown suite {suite!r}; choose from {choices}", source="--suite")
    return [suite]


def default_out_dir() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return Path("evals/runs") / stamp


def run_suites(suites: list[str], options: SuiteOptions, out_dir: Path) -> dict[str, Any]:
    """Run each suite in order and write metrics.json, samples.jsonl and report.html."""
    offline()
    results: list[SuiteResult] = []
    for name in suites:
        module = importlib.import_module(f"evals.suites.{name.replace('-', '_')}")
        results.append(module.run(options))
    return write_run(results, out_dir, options)
