"""Shadow mode's record: how far the challenger calibrator agrees with the champion on live cases.

While ``repairdesk model shadow calibrator`` is on, every agent proposal carries
``shadow.calibrator`` (the challenger's version and confidence) beside its own ``confidence`` and
``versions.calibrator`` (the champion's). The proposals table is therefore the record; this module
reads it back: count, mean absolute difference, and the share of cases on the same side of each
threshold (would both have auto-applied, or both held it for a person?).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.db.models import Proposal
from app.db.session import Database

THRESHOLDS = (0.5, 0.8, 0.9)


def agreement(db: Database, since: datetime | None = None) -> dict[str, Any]:
    """Champion-challenger agreement over the agent proposals made in shadow mode."""
    query = select(Proposal.payload).where(Proposal.source == "agent")
    if since is not None:
        query = query.where(Proposal.created_at >= since)
    pairs: list[tuple[float, float]] = []
    versions: set[tuple[str, str]] = set()
    with db.session() as session:
        for (payload,) in session.execute(query):
            shadow = ((payload or {}).get("shadow") or {}).get("calibrator")
            if not shadow or payload.get("confidence") is None:
                continue
            pairs.append((float(payload["confidence"]), float(shadow["confidence"])))
            champion = str((payload.get("versions") or {}).get("calibrator"))
            versions.add((champion, str(shadow.get("version"))))
    if not pairs:
        return {"n": 0}
    return {
        "n": len(pairs),
        "versions": [{"champion": c, "challenger": s} for c, s in sorted(versions)],
        "mean_abs_difference": sum(abs(a - b) for a, b in pairs) / len(pairs),
        "same_side": {str(t): sum((a >= t) == (b >= t) for a, b in pairs) / len(pairs) for t in THRESHOLDS},
    }
