"""The desk: queue columns copied from a case's payment, time to cut-off, and straight-through rule.

``payment_columns(payment)`` gives the indexed columns the queue sorts and filters on (amount,
currency, beneficiary, value date), from a canonical payment as JSON. The cut-off is configured per
currency (``Settings.cutoffs``, UTC) and applied when the queue is read: ``cutoff_order`` sorts by
it in SQL, ``cutoff_at`` gives the moment for display.
``stp_check(...)`` is THE straight-through rule for bulk approve: one function, so the queue's
checkboxes, the UI's bulk action and the API route cannot disagree about which cases qualify.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, case, literal

from app.db.models import Case
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


@dataclass(frozen=True)
class StpResult:
    eligible: bool
    reason: str  # why not, or what made it eligible


def stp_check(
    *,
    status: str,
    amount: float | None,
    proposal: dict[str, Any] | None,
    settings: Settings,
) -> StpResult:
    """Whether an approver may approve this case in bulk (straight-through eligible).

    All of: the case awaits review; the proposal is a repair with at least one change; the guard
    passed; the calibrated confidence is at least ``stp_min_confidence``; the amount is known and
    under ``stp_max_amount``. Maker-checker still applies per case when it is approved."""
    if status != "pending_review":
        return StpResult(False, f"case is {status}")
    if not proposal:
        return StpResult(False, "no proposal")
    if proposal.get("action") != "repair" or not proposal.get("changes"):
        return StpResult(False, "not a repair with changes")
    if not (proposal.get("guard") or {}).get("passed"):
        return StpResult(False, "guard did not pass")
    confidence = proposal.get("confidence")
    if not isinstance(confidence, int | float) or confidence < settings.stp_min_confidence:
        return StpResult(False, f"confidence under {settings.stp_min_confidence:g}")
    if amount is None or amount >= settings.stp_max_amount:
        return StpResult(False, f"amount unknown or not under {settings.stp_max_amount:g}")
    return StpResult(True, "guard passed, repair, confidence and amount within limits")


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
