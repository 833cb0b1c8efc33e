"""Test-only fault injection: named crash points that kill the process on the spot.

``crash_point(name)`` ends the process with ``os._exit(137)`` (what a ``kill -9`` leaves: no
``finally``, no flush, no commit) when ``REPAIRDESK_CRASH_AT`` names this point and
``REPAIRDESK_FAULTS_ENABLED`` is true; otherwise it does nothing. Both variables are documented in
``app.settings.Settings`` (``faults_enabled``) and set only by the fault-injection tests
(``tests/app/test_faults.py``) and ``benchmarks/faults.py``. It lives in ``tools/`` because the
agent's runner and the service both carry crash points and ``agents/`` never imports ``app/``.

The environment is read on each call (a dictionary look-up): the tests set it in a child process
just before the code under test runs.
"""

from __future__ import annotations

import os

# Along the decision path, in order (see app/services/decisions.py and agents/runner.py).
CRASH_POINTS = (
    "decision.before_commit",  # the intent is written but not committed
    "decision.after_commit",  # intent and job committed; the continuation not started
    "continuation.claimed",  # the job is claimed by this process
    "continuation.before_resume",
    "checkpoint.before_put",  # human_review's writes saved, its step's checkpoint not (agents.checkpoints)
    "graph.after_human_review",  # the graph took the decision, apply has not run
    "graph.after_apply",
    "graph.after_record",
    "continuation.after_resume",  # the checkpoint is final; the case row not yet updated
    "continuation.before_commit",
    "continuation.after_commit",  # the case is decided; the job row not yet marked done
)


def crash_point(name: str) -> None:
    if os.environ.get("REPAIRDESK_CRASH_AT") == name and os.environ.get(
        "REPAIRDESK_FAULTS_ENABLED", ""
    ).lower() in {"1", "true", "yes"}:
        os._exit(137)
