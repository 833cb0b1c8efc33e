"""``repairdesk worker`` whose agent raises on every case (a provider outage, a bug in a node), for the
dead-letter tests: ``python -m tests.app.failing_worker worker --threads 1`` (solo pool, so the agent
installed here is the one the tasks run)."""

from __future__ import annotations

from typing import Any

from app.cli.main import main
from app.jobs import triage


class OutageAgent:
    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        raise RuntimeError("model provider unavailable")

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("model provider unavailable")


if __name__ == "__main__":
    triage.set_runner(OutageAgent())
    main()
