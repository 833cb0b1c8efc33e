"""Shadow mode's record read back: champion and challenger confidences on stored agent proposals."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.db.models import Case, Proposal
from app.db.session import Database
from app.services.shadow import agreement


def _proposal(case_id: str, confidence: float, shadow: float | None) -> dict[str, object]:
    payload: dict[str, object] = {"confidence": confidence, "versions": {"calibrator": "cal-a"}}
    if shadow is not None:
        payload["shadow"] = {"calibrator": {"version": "cal-b", "confidence": shadow}}
    return payload


def test_agreement_over_shadowed_agent_proposals(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    db.migrate()
    assert agreement(db) == {"n": 0}
    with db.session() as session:
        for i, (ours, theirs) in enumerate([(0.95, 0.92), (0.40, 0.85), (0.10, None)]):
            case_id = f"C-{i}"
            session.add(
                Case(id=case_id, exception_code="AC01", status="pending_review", payload={},
                     request_hash="h", created_by="t")
            )  # fmt: skip
            session.add(
                Proposal(case_id=case_id, version=1, source="agent", author="agent",
                         payload=_proposal(case_id, ours, theirs))
            )  # fmt: skip
        session.commit()
    found = agreement(db)
    assert found["n"] == 2  # the proposal made without a shadow does not count
    assert found["versions"] == [{"champion": "cal-a", "challenger": "cal-b"}]
    assert found["mean_abs_difference"] == pytest.approx((0.03 + 0.45) / 2)
    assert found["same_side"]["0.5"] == pytest.approx(0.5) and found["same_side"]["0.9"] == pytest.approx(1.0)
