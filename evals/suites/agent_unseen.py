"""Agent suite on the unseen set (``evals/datasets/unseen/``): MEASURE ONLY, never tune on it.

The cases were written from the contract and the procedures' decision tables on their own reference
data (other customers, banks and countries), before the agent was changed for them. The suite scores
them exactly like ``agent`` (same metrics, same unsafe definition) against ``unseen/refdata.json``.
Run it with ``repairdesk eval run --suite agent-unseen``.
"""

from __future__ import annotations

from evals import datasets
from evals.base import SuiteOptions, SuiteResult
from evals.suites.agent import score_rows

NAME = "agent_unseen"


def run(options: SuiteOptions) -> SuiteResult:
    rows, entry = datasets.load(NAME)
    if options.limit:
        rows = rows[: options.limit]
    refdata = datasets.DATASETS_DIR / "unseen" / "refdata.json"
    results = score_rows(rows, options, desc="agent-unseen", refdata=refdata)
    return SuiteResult("agent-unseen", results, datasets={NAME: entry})
