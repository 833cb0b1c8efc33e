"""Drift and model monitoring figures, read from the decision record's tables (issue 13, item 7).

One :class:`WindowFigures` per time window, computed with a handful of aggregate queries over
``cases``, ``proposals`` and ``decisions`` (cheap on tens of thousands of cases):

- **exception-code mix** and **confidence distribution**: cases *created* in the window, the
  confidence of each case's latest agent proposal (an edit clears the case's own column, the agent's
  proposal keeps what the agent said);
- **approval / edit / reject rates** by exception code: the last final decision (approve or reject,
  applied) *made* in the window per case; ``edited`` is an approval after an applied edit. Cases
  applied straight through are not in these rates: their human decisions are QA reviews;
- **STP share**: the share of agent proposals (cases created in the window) applied straight
  through: the proposal's ``straight_through`` flag (CONTRACT "Additions"; absent means false) or an
  approval by the system maker (``system`` or ``system:<part>``, e.g. ``system:stp``);
- **QA disagreement**: the QA reviews made in the window of straight-through cases, the last per
  case: a ``qa`` decision disagrees when it names a ``correct_action``; a person's own
  approve/edit/reject on such a case agrees only when it approves.

:class:`Snapshot` puts the current window beside a reference window (the first
``monitor_reference_days`` of data, or a stored snapshot named by ``REPAIRDESK_MONITOR_REFERENCE``:
a report's ``figures.json``) and the PSI of the code mix and of the confidence bins between them.
PSI is ``None`` while either window has fewer than ``monitor_min_cases`` cases (noise, not drift).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.db.models import Case, Decision, Proposal
from app.services.drift import CONFIDENCE_BOUNDS, confidence_bins, psi
from tools.errors import RepairDeskError

if TYPE_CHECKING:
    from app.settings import Settings

OUTCOMES = ("approved", "edited", "rejected")
ALL = "ALL"  # the label of the all-codes aggregate
# The maker of a straight-through application is the system (``system`` or ``system:<part>``, e.g.
# ``system:stp``): its approval marks the case straight through and is never a human decision.
SYSTEM_MAKER = "system"
QA_DECISION = "qa"  # a person's QA verdict on a straight-through case; a disagreement names correct_action
COUNTED_DECISIONS = ("approve", "reject", "edit", QA_DECISION)
COUNTED_STATES = ("applied", "first_approval")


class MonitorError(RepairDeskError):
    """A monitoring input that cannot be used (a bad window, an unreadable reference snapshot)."""

    code = "monitor_error"


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class WindowFigures:
    """What happened in one time window ``[start, end)``; counts only, so windows compare and store."""

    start: datetime
    end: datetime
    codes: dict[str, int] = field(default_factory=dict)  # cases created, by exception code
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)  # code -> outcome -> cases
    proposals: int = 0  # cases created in the window with an agent proposal
    straight_through: int = 0
    confidence: list[int] = field(default_factory=lambda: [0] * len(CONFIDENCE_BOUNDS))
    confidence_sum: float = 0.0
    qa_reviews: int = 0
    qa_disagreements: int = 0
    source: str = "database"

    @property
    def cases(self) -> int:
        return sum(self.codes.values())

    def decided(self, code: str = ALL) -> int:
        return sum(self._outcomes(code).values())

    def rates(self, code: str = ALL) -> dict[str, float | None]:
        """Share of decided cases per outcome (``None`` without decisions)."""
        counts, total = self._outcomes(code), self.decided(code)
        return {o: (counts.get(o, 0) / total if total else None) for o in OUTCOMES}

    def _outcomes(self, code: str) -> dict[str, int]:
        if code != ALL:
            return self.outcomes.get(code, {})
        merged: dict[str, int] = {}
        for counts in self.outcomes.values():
            for outcome, count in counts.items():
                merged[outcome] = merged.get(outcome, 0) + count
        return merged

    @property
    def stp_share(self) -> float | None:
        return self.straight_through / self.proposals if self.proposals else None

    @property
    def qa_disagreement_rate(self) -> float | None:
        return self.qa_disagreements / self.qa_reviews if self.qa_reviews else None

    def code_shares(self) -> dict[str, float]:
        total = self.cases
        return {code: count / total for code, count in sorted(self.codes.items())} if total else {}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str) -> WindowFigures:
        try:
            figures = cls(
                start=utc(datetime.fromisoformat(data["start"])),
                end=utc(datetime.fromisoformat(data["end"])),
                codes={str(k): int(v) for k, v in data["codes"].items()},
                outcomes={
                    str(code): {str(o): int(n) for o, n in counts.items()}
                    for code, counts in data.get("outcomes", {}).items()
                },
                proposals=int(data.get("proposals", 0)),
                straight_through=int(data.get("straight_through", 0)),
                confidence=[int(n) for n in data["confidence"]],
                confidence_sum=float(data.get("confidence_sum", 0.0)),
                qa_reviews=int(data.get("qa_reviews", 0)),
                qa_disagreements=int(data.get("qa_disagreements", 0)),
                source=source,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MonitorError(
                f"not a monitoring window ({type(exc).__name__}: {exc})", source=source
            ) from exc
        if len(figures.confidence) != len(CONFIDENCE_BOUNDS):
            raise MonitorError(
                f"{len(figures.confidence)} confidence bins, expected {len(CONFIDENCE_BOUNDS)}", source=source
            )
        return figures


def _in(column: Any, start: datetime, end: datetime) -> Any:
    return and_(column >= start, column < end)


def window_figures(session: Session, start: datetime, end: datetime) -> WindowFigures:
    """The figures of ``[start, end)`` from the database."""
    start, end = utc(start), utc(end)
    if end <= start:
        raise MonitorError(f"{start.isoformat()} is not before {end.isoformat()}", source="window")
    figures = WindowFigures(start=start, end=end)
    created = _in(Case.created_at, start, end)
    figures.codes = {
        code: count
        for code, count in session.execute(
            select(Case.exception_code, func.count()).where(created).group_by(Case.exception_code)
        )
    }
    _proposal_figures(session, figures, created)
    _decision_figures(session, figures, start, end)
    return figures


def _agent_proposals(session: Session, case_filter: Any) -> dict[str, tuple[float | None, bool]]:
    """Latest agent proposal per case: ``(confidence, straight_through flag of the proposal)``."""
    rows = session.execute(
        select(
            Proposal.case_id,
            Proposal.payload["confidence"].as_float(),
            Proposal.payload["straight_through"].as_boolean(),
        )
        .where(Proposal.source == "agent", case_filter)
        .order_by(Proposal.case_id, Proposal.version)
    )
    return {case_id: (confidence, bool(stp)) for case_id, confidence, stp in rows}


def _by_system() -> Any:
    return or_(Decision.user == SYSTEM_MAKER, Decision.user.like(f"{SYSTEM_MAKER}:%"))


def _straight_through(
    session: Session, case_ids: Any, proposals: dict[str, tuple[float | None, bool]]
) -> set[str]:
    """Cases applied straight through: the proposal says so, or the system approved the case."""
    approved_by_system = session.scalars(
        select(Decision.case_id)
        .where(Decision.decision == "approve", _by_system(), Decision.case_id.in_(case_ids))
        .distinct()
    )
    return {case_id for case_id, (_, flag) in proposals.items() if flag} | set(approved_by_system)


def _proposal_figures(session: Session, figures: WindowFigures, created: Any) -> None:
    created_ids = select(Case.id).where(created)
    proposals = _agent_proposals(session, Proposal.case_id.in_(created_ids))
    figures.proposals = len(proposals)
    figures.straight_through = len(_straight_through(session, created_ids, proposals) & set(proposals))
    values = [float(c) for c, _ in proposals.values() if c is not None]
    figures.confidence = confidence_bins(values)
    figures.confidence_sum = round(sum(values), 6)


def _decision_figures(session: Session, figures: WindowFigures, start: datetime, end: datetime) -> None:
    in_window = and_(
        _in(Decision.created_at, start, end),
        Decision.decision.in_(COUNTED_DECISIONS),
        Decision.state.in_(COUNTED_STATES),
    )
    decided_cases = select(Decision.case_id).where(in_window)
    rows = session.execute(
        select(
            Decision.id,
            Decision.case_id,
            Decision.decision,
            Decision.state,
            Decision.user,
            Decision.correct_action,
            Case.exception_code,
        )
        .join(Case, Case.id == Decision.case_id)
        .where(in_window)
        .order_by(Decision.id)
    ).all()
    # the first applied edit of each of these cases, whenever it was made (a correlated EXISTS
    # makes SQLite walk the state index per row: seconds on 10,000 cases)
    first_edit = dict(
        session.execute(
            select(Decision.case_id, func.min(Decision.id))
            .where(
                Decision.decision == "edit", Decision.state == "applied", Decision.case_id.in_(decided_cases)
            )
            .group_by(Decision.case_id)
        ).all()
    )
    stp_cases = _straight_through(
        session, decided_cases, _agent_proposals(session, Proposal.case_id.in_(decided_cases))
    )
    final: dict[str, tuple[str, str]] = {}  # case -> (code, outcome), the last one wins
    qa: dict[str, bool] = {}  # straight-through case -> whether its last QA review disagreed
    for decision_id, case_id, decision, state, user, correct_action, code in rows:
        if decision == QA_DECISION:
            qa[case_id] = correct_action is not None
        elif case_id in stp_cases:
            if user != SYSTEM_MAKER and not user.startswith(f"{SYSTEM_MAKER}:"):
                qa[case_id] = decision != "approve"  # a person re-decided an auto-applied case
        elif state == "applied" and decision != "edit":
            edited = first_edit.get(case_id, decision_id) < decision_id
            outcome = "rejected" if decision == "reject" else ("edited" if edited else "approved")
            final[case_id] = (code, outcome)
    outcomes: dict[str, dict[str, int]] = {}
    for code, outcome in final.values():
        counts = outcomes.setdefault(code, {})
        counts[outcome] = counts.get(outcome, 0) + 1
    figures.outcomes = dict(sorted(outcomes.items()))
    figures.qa_reviews = len(qa)
    figures.qa_disagreements = sum(qa.values())


@dataclass
class Snapshot:
    """The current window beside its reference, and the PSI between them."""

    current: WindowFigures
    reference: WindowFigures | None
    psi: dict[str, float | None]
    min_cases: int
    generated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "min_cases": self.min_cases,
            "psi": self.psi,
            "current": self.current.to_dict(),
            "reference": self.reference.to_dict() if self.reference else None,
        }


def load_reference(path: Path) -> WindowFigures:
    """A stored reference window: a report's ``figures.json`` (its current window) or one window."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MonitorError(f"cannot read the reference snapshot ({exc})", source=str(path)) from exc
    if isinstance(data, dict) and isinstance(data.get("current"), dict):
        data = data["current"]
    if not isinstance(data, dict):
        raise MonitorError("not a monitoring window (a JSON object is expected)", source=str(path))
    return WindowFigures.from_dict(data, source=str(path))


def reference_window(
    session: Session, *, days: float, stored: Path | None, before: datetime
) -> WindowFigures | None:
    """The stored snapshot if one is named, else the first ``days`` of data (``None``: no cases yet)."""
    if stored is not None:
        return load_reference(stored)
    first = session.scalar(select(func.min(Case.created_at)))
    if first is None:
        return None
    start = utc(first)
    end = min(start + timedelta(days=days), utc(before))
    if end <= start:
        end = start + timedelta(seconds=1)
    figures = window_figures(session, start, end)
    figures.source = f"first {days:g} days of data"
    return figures


def drift(current: WindowFigures, reference: WindowFigures | None, min_cases: int) -> dict[str, float | None]:
    """PSI of the code mix and of the confidence bins (``None`` below ``min_cases`` on either side)."""
    result: dict[str, float | None] = {"exception_code": None, "confidence": None}
    if reference is None:
        return result
    if min(current.cases, reference.cases) >= min_cases:
        result["exception_code"] = _rounded(psi(reference.codes, current.codes))
    if min(sum(current.confidence), sum(reference.confidence)) >= min_cases:
        as_map = lambda bins: {str(i): n for i, n in enumerate(bins)}  # noqa: E731
        result["confidence"] = _rounded(psi(as_map(reference.confidence), as_map(current.confidence)))
    return result


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def snapshot(
    session: Session,
    *,
    since: datetime | None,
    now: datetime,
    window_days: float,
    reference_days: float,
    reference_file: Path | None,
    min_cases: int,
) -> Snapshot:
    """The current window (``since`` .. ``now``, default the last ``window_days``) and its drift."""
    now = utc(now)
    start = utc(since) if since is not None else now - timedelta(days=window_days)
    if start >= now:
        raise MonitorError(f"{start.isoformat()} is not before now ({now.isoformat()})", source="since")
    current = window_figures(session, start, now)
    reference = reference_window(session, days=reference_days, stored=reference_file, before=now)
    return Snapshot(current, reference, drift(current, reference, min_cases), min_cases, now)


@dataclass(frozen=True)
class TimelinePoint:
    """One step of the current window (a day, or longer for long windows) against the reference."""

    figures: WindowFigures
    psi: dict[str, float | None]


def timeline(session: Session, snapshot: Snapshot, *, max_points: int = 60) -> list[TimelinePoint]:
    """The current window cut into days (longer steps beyond ``max_points`` days), each with its PSI."""
    start, end = snapshot.current.start, snapshot.current.end
    step = timedelta(days=max(1, math.ceil((end - start) / timedelta(days=max_points))))
    points = []
    while start < end:
        upper = min(start + step, end)
        figures = window_figures(session, start, upper)
        points.append(TimelinePoint(figures, drift(figures, snapshot.reference, snapshot.min_cases)))
        start = upper
    return points


def settings_snapshot(session: Session, settings: Settings, *, since: datetime | None = None) -> Snapshot:
    """:func:`snapshot` with the windows and reference that ``settings`` configure (the service, the CLI)."""
    return snapshot(
        session,
        since=since,
        now=settings.tool_config().clock.now(),  # REPAIRDESK_TODAY replays a fixed day
        window_days=settings.monitor_window_days,
        reference_days=settings.monitor_reference_days,
        reference_file=settings.monitor_reference,
        min_cases=settings.monitor_min_cases,
    )
