"""The desk: queue columns copied from a case's payment, time to cut-off, and straight-through rule.

``payment_columns(payment)`` gives the indexed columns the queue sorts and filters on (amount,
currency, beneficiary, value date), from a canonical payment as JSON. The cut-off is configured per
currency (``Settings.cutoffs``, UTC) and applied when the queue is read: ``cutoff_order`` sorts by
it in SQL, ``cutoff_at`` gives the moment for display.
``stp_check(...)`` is the straight-through rule for bulk approve: the STP policy's own
(:func:`app.services.stp.eligibility`), so the queue's checkboxes, the UI's bulk action, the API route
and auto-apply cannot disagree about which cases qualify.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, case, literal

from app.db.models import Case
from app.services.stp import StpOptions, Verdict, eligibility
from app.settings import Settings

MAX_BENEFICIARY = 140


def _amount(value: Any) -> float | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return float(amount) if amount.is_finite() else None


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def cutoff_time(settings: Settings, currency: str | None) -> time:
    text = settings.cutoffs.get((currency or "").upper(), settings.cutoff_default)
    return time.fromisoformat(text)


def cutoff_at(settings: Settings, currency: str | None, value_date: date | None) -> datetime | None:
    """The moment the payment misses its value date: that day's cut-off for its currency (UTC)."""
    if value_date is None:
        return None
    return datetime.combine(value_date, cutoff_time(settings, currency), tzinfo=UTC)


def cutoff_order(settings: Settings) -> ColumnElement[Any]:
    """An SQL expression ordering cases by cut-off time within a value date ("HH:MM" sorts as text)."""
    whens = [(Case.currency == code, literal(text)) for code, text in sorted(settings.cutoffs.items())]
    return case(*whens, else_=literal(settings.cutoff_default)) if whens else literal(settings.cutoff_default)


def payment_columns(payment: dict[str, Any] | None) -> dict[str, Any]:
    """The queue columns of a canonical payment (JSON form); empty when there is no payment."""
    if not isinstance(payment, dict):
        return {}
    currency = payment.get("currency")
    currency = str(currency).upper()[:3] if currency else None
    creditor = payment.get("creditor") if isinstance(payment.get("creditor"), dict) else {}
    name = creditor.get("name") if creditor else None
    value_date = _date(payment.get("value_date")) if payment.get("value_date") else None
    return {
        "amount": _amount(payment.get("amount")) if payment.get("amount") is not None else None,
        "currency": currency,
        "beneficiary": str(name)[:MAX_BENEFICIARY] if name else None,
        "value_date": value_date,
    }


def message_payment(extraction: dict[str, Any] | None) -> dict[str, Any] | None:
    """The payment parsed from a case's message (``cases.message_extraction``): the one parsed when
    the case was accepted, or, for older rows, the first payment among the message's extractions."""
    if isinstance(extraction, dict) and isinstance(extraction.get("payment"), dict):
        parsed: dict[str, Any] = extraction["payment"]
        return parsed
    for item in (extraction or {}).get("extractions") or []:
        if isinstance(item, dict) and isinstance(item.get("payment"), dict):
            payment: dict[str, Any] = item["payment"]
            return payment
    return None


def time_to(moment: datetime | None, now: datetime) -> tuple[float | None, str]:
    """Seconds until ``moment`` (negative once passed) and a short label ("2h 05m", "passed 1d 3h")."""
    if moment is None:
        return None, ""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    seconds = (moment - now).total_seconds()
    left = abs(int(seconds))
    days, rest = divmod(left, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m"
    return seconds, text if seconds >= 0 else f"passed {text}"


def stp_check(
    *,
    status: str,
    amount: float | None,
    currency: str | None,
    proposal: dict[str, Any] | None,
    policy: dict[str, Any] | None,
    kill_switch: bool,
    settings: Settings,
    source: str | None = "agent",
) -> Verdict:
    """Whether an approver may approve this case in bulk: it awaits review and the fitted STP policy in
    force certifies its proposal (:func:`app.services.stp.eligibility`, the rule auto-apply uses: code
    and action eligible at the proposal's confidence under the Clopper-Pearson bound, guard passed,
    not four-eyes, amount under the currency's limit, kill switch off). ``policy`` and ``kill_switch``
    come from :func:`app.services.stp.in_force`; ``source`` is who made the latest proposal (the
    policy certifies the agent's proposals at the calibrator's confidence, not a person's edit, which
    keeps the agent's confidence in its payload). Maker-checker still applies per case when approved."""
    if status != "pending_review":
        return Verdict(False, f"case is {status}")
    if proposal and source != "agent":
        return Verdict(False, f"the latest proposal is not the agent's ({source}): STP certifies the agent's")
    return eligibility(
        proposal,
        amount=amount,
        currency=currency,
        policy=policy,
        options=StpOptions.from_settings(settings),
        kill_switch=kill_switch,
    )


# Reject reason codes offered on the case page (CONTRACT "Additions": ``reason_code``), and what should
# happen instead (``correct_action``).
REJECT_REASONS: dict[str, str] = {
    "wrong_value": "The proposed value is wrong",
    "insufficient_evidence": "The evidence does not support the change",
    "wrong_field": "The wrong field was changed",
    "not_repairable": "The payment cannot be repaired",
    "needs_customer": "The customer must be contacted first",
    "suspected_fraud": "Suspected fraud or sanctions concern",
    "duplicate": "Duplicate of another payment",
    "other": "Other (say why in the comment)",
}
CORRECT_ACTIONS: dict[str, str] = {
    "return": "Return the payment",
    "escalate": "Escalate",
    "manual_repair": "Repair manually",
    "investigate": "Send an investigation (MT199)",
    "no_action": "No action",
}
