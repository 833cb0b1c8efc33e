"""Seeded decision records for the monitoring tests: cases, agent proposals and decisions, dated.

Rows are written the way the service writes them (an agent proposal per case, an ``edit`` decision
that is ``applied``, a final ``approve``/``reject``), with chosen timestamps so that tests place them
in a reference or a current window. A straight-through case is approved by the system maker
(``system:stp``), with or without the proposal's ``straight_through`` flag; its QA review is a ``qa``
decision (a disagreement names the correct action) or, the older way, a person's approve/edit/reject.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.db.models import Case, Decision, Proposal

_ids = itertools.count(1)

START = datetime(2026, 9, 1, tzinfo=UTC)  # the reference: the first 14 days
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # the current window: the 7 days before
CURRENT = NOW - timedelta(days=7)
STEADY = {"AC01": 60, "AM04": 25, "RR03": 15}
SHIFTED = {"AC01": 10, "AM04": 10, "RR03": 50, "AM05": 30}  # duplicates sent as RR03, a new code


@dataclass(frozen=True)
class Seed:
    """One case: its code, when it arrived, what the agent said and what people did."""

    code: str
    at: datetime
    confidence: float | None = 0.92
    outcome: str | None = None  # approved, edited, rejected; None: undecided
    straight_through: bool | None = None  # the proposal's flag; None: no such key
    auto_applied_by: str | None = None  # the system maker that approved it (straight through)
    qa: str | None = None  # agree, disagree (a ``qa`` decision), or a person's approve, edit, reject
    decided_after: timedelta = timedelta(hours=1)


def add(session: Session, seed: Seed) -> str:
    case_id = f"MON-{next(_ids):06d}"
    session.add(
        Case(
            id=case_id,
            exception_code=seed.code,
            status="pending_review",
            payload={"exception_code": seed.code},
            request_hash="0" * 64,
            created_by="svc-bot",
            created_at=seed.at,
            updated_at=seed.at,
        )
    )
    payload: dict[str, object] = {"action": "repair", "changes": [], "guard": {"passed": True}}
    if seed.confidence is not None:
        payload["confidence"] = seed.confidence
    if seed.straight_through is not None:
        payload["straight_through"] = seed.straight_through
    session.add(
        Proposal(
            case_id=case_id, version=1, source="agent", author="agent", payload=payload, created_at=seed.at
        )
    )
    decided = seed.at + seed.decided_after
    steps: list[tuple[str, str]] = []
    if seed.straight_through or seed.auto_applied_by:
        steps.append(("approve", seed.auto_applied_by or "system"))
        if seed.qa in ("agree", "disagree"):
            steps.append(("qa", "qa-reviewer" if seed.qa == "agree" else "qa-disagrees"))
        elif seed.qa:
            steps.append((seed.qa, "qa-reviewer"))
    elif seed.outcome == "edited":
        steps += [("edit", "ana"), ("approve", "alice")]
    elif seed.outcome is not None:
        steps.append(({"approved": "approve", "rejected": "reject"}[seed.outcome], "alice"))
    for offset, (decision, user) in enumerate(steps):
        session.add(
            Decision(
                case_id=case_id,
                decision=decision,
                user=user,
                comment="",
                changes=[],
                state="applied",
                proposal_version=1,
                correct_action="return" if user == "qa-disagrees" else None,
                created_at=decided + timedelta(minutes=offset),
            )
        )
    return case_id


def add_all(session: Session, seeds: list[Seed]) -> None:
    for seed in seeds:
        add(session, seed)
    session.commit()


def spread(code_counts: dict[str, int], start: datetime, days: float, **fields: object) -> list[Seed]:
    """``code_counts`` cases spread evenly over ``days`` from ``start``, codes interleaved."""
    codes = [code for code, count in code_counts.items() for _ in range(count)]
    random.Random(13).shuffle(codes)
    step = timedelta(days=days) / max(len(codes), 1)
    return [Seed(code=code, at=start + step * i, **fields) for i, code in enumerate(codes)]  # type: ignore[arg-type]
