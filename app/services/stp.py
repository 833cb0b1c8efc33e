"""Straight-through processing (STP): the policy in force, the kill switch, and the one eligibility rule.

A *policy* is fitted from held-out decided cases (:func:`decision_points` over the decision records of
:mod:`app.services.corrections`, or an exported dataset): per exception code and action, the lowest
confidence threshold at which the 95% upper bound of the wrong-repair rate stays at or under
``REPAIRDESK_STP_MAX_WRONG_RATE`` (1%), with at least ``REPAIRDESK_STP_MIN_COUNT`` cases
(:mod:`tools.stp_bounds`). Policies are stored versioned in ``stp_policies`` and never changed: fitting
again adds a version, and the newest is in force.

Auto-apply (:mod:`app.services.stp_apply`) asks :func:`verdict`: STP switched on
(``REPAIRDESK_STP_ENABLED``, off by default) and then the one rule, :func:`eligibility` (which bulk
approve asks too): the kill switch off, the proposal a guard-passed agent
proposal whose action is not itself a hand-over to a person, not four-eyes, its code/action eligible
in the policy at its confidence (a policy fitted for one calibrator version only certifies that
version's confidences), and the amount known and under the currency's limit.

The kill switch is one database row (``stp_control``), so every API process and worker sees a change
at its next case; only an admin turns it on or off (:func:`set_kill_switch`), and each change is an
audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from app.db.models import StpControl, StpPolicy
from app.errors import ForbiddenError
from app.services.audit import append_event
from app.settings import Settings
from tools import stp_bounds
from tools.errors import NotFoundError

SYSTEM_MAKER = "system:stp"  # the maker named on auto-applied decisions
ADMIN_ROLE = "admin"
# Actions that are themselves a hand-over to a person: approving them without one makes no sense.
HUMAN_ACTIONS = frozenset({"escalate", "request_info", "investigate"})
METHOD = "clopper-pearson one-sided upper bound, fixed-sequence threshold testing"


@dataclass(frozen=True)
class StpOptions:
    """What auto-apply needs of the settings (copied once per process: the pool, a Celery worker)."""

    enabled: bool = False
    max_amount: float = 10_000.0
    max_amounts: dict[str, float] = field(default_factory=dict)
    qa_share: float = 0.1

    @classmethod
    def from_settings(cls, settings: Settings) -> StpOptions:
        return cls(
            enabled=settings.stp_enabled,
            max_amount=settings.stp_max_amount,
            max_amounts=dict(settings.stp_max_amounts),
            qa_share=settings.stp_qa_share,
        )

    def limit_for(self, currency: str | None) -> float:
        return self.max_amounts.get((currency or "").upper(), self.max_amount)


# --- the policy -----------------------------------------------------------------------------------


def wrong_decision(record: dict[str, Any]) -> bool | None:
    """Whether a decided case's agent proposal was wrong: anything but an unedited approval.

    ``None`` when the record has no agent proposal or no label (nothing to learn from)."""
    label = record.get("label")
    if not record.get("proposal") or not isinstance(label, dict):
        return None
    return not (label.get("decision") == "approve" and not label.get("edited"))


def decision_points(records: list[dict[str, Any]], calibrator: str | None = None) -> list[dict[str, Any]]:
    """``(exception_code, action, confidence, wrong)`` of each labelled decision record.

    With ``calibrator``, only proposals whose ``versions.calibrator`` is that version: a threshold is
    about one model's confidences, and decisions on another model's proposals say little about it."""
    points = []
    for record in records:
        wrong = wrong_decision(record)
        proposal = (record.get("proposal") or {}).get("payload") or {}
        confidence = proposal.get("confidence")
        if wrong is None or not isinstance(confidence, int | float):
            continue
        versions = (record.get("proposal") or {}).get("versions") or proposal.get("versions") or {}
        if calibrator is not None and versions.get("calibrator") != calibrator:
            continue
        points.append(
            {
                "id": record.get("case_id"),
                "exception_code": proposal.get("exception_code") or record.get("exception_code"),
                "action": proposal.get("action"),
                "confidence": float(confidence),
                "wrong": wrong,
            }
        )
    return points


def build_policy(
    points: list[dict[str, Any]], *, target: float, min_count: int, source: dict[str, Any]
) -> dict[str, Any]:
    """The policy document: parameters, one rule per code/action, and what it would have applied."""
    rules = stp_bounds.fit_rules(points, target=target, min_count=min_count, level=stp_bounds.DEFAULT_LEVEL)
    return {
        "method": METHOD,
        "target": target,
        "level": stp_bounds.DEFAULT_LEVEL,
        "min_count": min_count,
        "source": source,
        "rules": rules,
        "overall": stp_bounds.overall(points, rules),
    }


def store_policy(session: Session, policy: dict[str, Any], *, actor: str) -> StpPolicy:
    """Add ``policy`` as the next version (in force from the commit) with its audit event; the caller
    commits."""
    version = int(session.scalar(select(func.max(StpPolicy.version))) or 0) + 1
    row = StpPolicy(version=version, policy=policy, created_by=actor)
    session.add(row)
    session.flush()
    eligible = [f"{r['exception_code']}/{r['action']}" for r in policy["rules"] if r.get("eligible")]
    append_event(
        session,
        event="stp_policy",
        actor=actor,
        data={
            "version": version,
            "eligible": eligible,
            "source": policy.get("source"),
            "target": policy["target"],
        },
    )
    return row


def active_policy(session: Session) -> StpPolicy | None:
    """The policy in force: the newest version (``None``: none fitted, nothing is eligible)."""
    return session.scalar(select(StpPolicy).order_by(StpPolicy.version.desc()).limit(1))


def policy_version(session: Session, version: int) -> StpPolicy:
    row = session.scalar(select(StpPolicy).where(StpPolicy.version == version))
    if row is None:
        raise NotFoundError("no such STP policy version", source=f"policy v{version}")
    return row


def rule_for(policy: dict[str, Any] | None, code: str | None, action: str | None) -> dict[str, Any] | None:
    for rule in (policy or {}).get("rules") or []:
        if rule.get("exception_code") == code and rule.get("action") == action:
            return dict(rule)
    return None


# --- the kill switch ------------------------------------------------------------------------------


def control(session: Session, *, lock: bool = False) -> StpControl:
    """The one control row; ``lock`` takes a share lock (PostgreSQL) so a switch flipped meanwhile waits
    for this transaction, and one flipped before it is seen by it."""
    query = select(StpControl).where(StpControl.id == 1)
    if lock:
        query = query.with_for_update(read=True)
    row = session.scalar(query)
    if row is None:  # a database migrated without the seeded row: create it, switch off
        row = StpControl(id=1, kill_switch=False)
        session.add(row)
        session.flush()
    return row


def set_kill_switch(session: Session, engaged: bool, *, actor: str, role: str, reason: str) -> StpControl:
    """Engage (STP off at once, for every worker) or release the kill switch; admin only, audited.
    The caller commits."""
    if role != ADMIN_ROLE:
        raise ForbiddenError(f"the STP kill switch needs the admin role; you are {role}", source="stp")
    row = session.scalar(select(StpControl).where(StpControl.id == 1).with_for_update()) or control(session)
    previous = row.kill_switch
    row.kill_switch = engaged
    row.changed_by, row.changed_at, row.reason = actor, datetime.now(UTC), reason
    append_event(
        session,
        event="stp_kill_switch",
        actor=actor,
        data={"engaged": engaged, "was_engaged": previous, "reason": reason},
    )
    return row


# --- the one rule ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    reason: str
    rule: dict[str, Any] | None = None


def verdict(
    proposal: dict[str, Any] | None,
    *,
    amount: float | None,
    currency: str | None,
    policy: dict[str, Any] | None,
    options: StpOptions,
    kill_switch: bool,
) -> Verdict:
    """Whether ``proposal`` may be applied without a human decision, and why (not): STP switched on,
    then :func:`eligibility`."""
    if not options.enabled:
        return Verdict(False, "STP is not enabled (REPAIRDESK_STP_ENABLED)")
    return eligibility(
        proposal, amount=amount, currency=currency, policy=policy, options=options, kill_switch=kill_switch
    )


def eligibility(
    proposal: dict[str, Any] | None,
    *,
    amount: float | None,
    currency: str | None,
    policy: dict[str, Any] | None,
    options: StpOptions,
    kill_switch: bool,
) -> Verdict:
    """Whether the policy in force certifies ``proposal`` (kill switch off, guard passed, not four-eyes,
    code/action eligible at its confidence, amount under the limit). Auto-apply asks it through
    :func:`verdict`; bulk approve (:func:`app.services.desk.stp_check`) asks it directly, so an
    approver's batch takes exactly the cases the fitted policy would let through."""
    if kill_switch:
        return Verdict(False, "the STP kill switch is on")
    if not proposal:
        return Verdict(False, "no proposal")
    action = proposal.get("action")
    if action in HUMAN_ACTIONS or not action:
        return Verdict(False, f"action {action!r} hands the case to a person")
    guard = proposal.get("guard") or {}
    if guard.get("passed") is not True:
        return Verdict(False, "the guard did not pass")
    if guard.get("second_approver_required") or proposal.get("four_eyes"):
        return Verdict(False, "four-eyes: needs two people")
    if action == "repair" and not proposal.get("changes"):
        return Verdict(False, "a repair without changes")
    confidence = proposal.get("confidence")
    if not isinstance(confidence, int | float):
        return Verdict(False, "no confidence")
    if policy is None:
        return Verdict(False, "no STP policy fitted (`repairdesk stp fit`)")
    fitted_for = (policy.get("source") or {}).get("calibrator")
    made_by = (proposal.get("versions") or {}).get("calibrator")
    if fitted_for is not None and made_by != fitted_for:
        return Verdict(False, f"the policy is for calibrator {fitted_for}, the proposal's is {made_by}")
    rule = rule_for(policy, proposal.get("exception_code"), action)
    if rule is None or not rule.get("eligible") or rule.get("threshold") is None:
        why = rule.get("reason") if rule else "no held-out decisions"
        return Verdict(False, f"{proposal.get('exception_code')}/{action} not eligible: {why}", rule)
    if float(confidence) < float(rule["threshold"]):
        return Verdict(False, f"confidence {confidence:g} under the threshold {rule['threshold']:g}", rule)
    limit = options.limit_for(currency)
    if amount is None or amount >= limit:
        return Verdict(
            False, f"amount unknown or not under the limit {limit:g} {currency or ''}".strip(), rule
        )
    return Verdict(
        True, f"confidence {confidence:g} >= {rule['threshold']:g}, bound {rule['upper_bound']:.4f}", rule
    )


def in_force(executor: Session | Connection) -> tuple[dict[str, Any] | None, bool]:
    """(the policy in force, whether the kill switch is engaged), read with a session or a connection
    (the queue reads with a connection)."""
    policy = executor.execute(select(StpPolicy.policy).order_by(StpPolicy.version.desc()).limit(1)).scalar()
    engaged = executor.execute(select(StpControl.kill_switch).where(StpControl.id == 1)).scalar()
    return policy, bool(engaged)


def status(session: Session, options: StpOptions) -> dict[str, Any]:
    """What ``GET /v1/stp`` and the admin page show: switches, limits and the policy in force."""
    ctl = control(session)
    policy = active_policy(session)
    return {
        "enabled": options.enabled,
        "kill_switch": {
            "engaged": ctl.kill_switch,
            "changed_by": ctl.changed_by,
            "changed_at": _utc(ctl.changed_at).isoformat() if ctl.changed_at else None,
            "reason": ctl.reason,
        },
        "active": options.enabled and not ctl.kill_switch and policy is not None,
        "limits": {"default": options.max_amount, **options.max_amounts},
        "qa_share": options.qa_share,
        "policy": policy_json(policy) if policy else None,
    }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite hands back naive UTC values


def policy_json(row: StpPolicy) -> dict[str, Any]:
    created = _utc(row.created_at)
    return {
        "version": row.version,
        "created_by": row.created_by,
        "created_at": created.isoformat(),
        **row.policy,
    }
