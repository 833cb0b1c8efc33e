"""``repairdesk worker`` whose agent raises on every case (a provider outage, a bug in a node), for the
dead-letter tests: ``python -m tests.app.failing_worker worker --threads 1`` (solo pool, so the agent
this command brings is the one the tasks run)."""

from __future__ import annotations

from typing import Any

from app.cli.context import CliContext
from app.cli.main import cli
from app.jobs.triage import TriageRunners
from app.settings import Settings


class OutageAgent:
    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        raise RuntimeError("model provider unavailable")

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("model provider unavailable")


if __name__ == "__main__":
    cli(obj=CliContext(Settings(), build_runners=lambda _settings: TriageRunners.fixed(OutageAgent())))
