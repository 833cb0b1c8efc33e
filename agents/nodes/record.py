"""record: the graph's last step once a case is reviewed; deliberately free of side effects.

Labels come only from the service's database (``app.services.corrections``, issue 13): a second
label sink here (the former ``decisions.jsonl``) disagreed with it. The node stays so the graph's
shape and checkpoints are unchanged; having no side effect, a re-run after a crash is harmless.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.state import TriageState


def record(state: TriageState, config: RunnableConfig) -> dict[str, Any]:
    return {}
