"""Run evaluation suites offline and write a run directory."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.base import SuiteOptions, SuiteResult, write_run
from tools.config import offline
from tools.errors import ValidationError

SUITES = ("extraction", "retrieval", "agent", "rag", "adversarial")
# Part of `all` only when its data exists (an export of analyst decisions).
OPTIONAL_SUITES = ("corrections",)
# Measure-only suites: never part of `all` (nobody tunes on them by running everything); `stp` replays
# the agent and adversarial sets again to fit and test a straight-through policy on them.
EXTRA_SUITES = ("agent-unseen", "perturbed", "stp")


def expand(suite: str, options: SuiteOptions | None = None) -> list[str]:
    """The suites ``suite`` names; ``all`` adds ``corrections`` when an export exists (see
    :func:`skipped`)."""
    if suite == "all":
        return list(SUITES) + [name for name in OPTIONAL_SUITES if not skipped(name, options)]
    if suite not in (*SUITES, *OPTIONAL_SUITES, *EXTRA_SUITES):
        choices = ", ".join((*SUITES, *OPTIONAL_SUITES, *EXTRA_SUITES, "all"))
        raise ValidationError(f"unknown suite {suite!r}; choose from {choices}", source="--suite")
    return [suite]


def skipped(name: str, options: SuiteOptions | None) -> str | None:
    """Why optional suite ``name`` is left out of ``all`` (``None``: it runs)."""
    from evals.suites import corrections

    if name == "corrections" and not corrections.exists(options or SuiteOptions()):
        return "corrections: no export of analyst decisions yet (`repairdesk eval export-corrections`)"
    return None


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
