"""The case page's per-field edit form: which fields it offers, their pre-filled values and sources,
and the ``edit`` decision's changes built back from the posted form.

Each editable field is one input (``value:<field>``) and one source select (``source:<field>``):
``analyst-asserted`` (typed by the analyst) or the result refs of this case's tool calls (picked from
listed evidence; the server's guard checks that the value really appears there). A field left at the
payment's own value is no change. A proposed change to a field the form does not offer is kept as
proposed, so saving the form never silently drops part of the agent's proposal.
"""

from __future__ import annotations

from typing import Any

from app.services.edits import ANALYST_ASSERTED
from tools.messages.currencies import MINOR_UNITS

# (field, label, client-side check) — the scalar fields an analyst repairs; lists (address lines,
# remittance lines) are not fields of the canonical payment's edit contract yet.
# A table: its rows are alike by design.
EDITABLE: tuple[tuple[str, str, str], ...] = (
    ("payment.creditor.account.iban", "Creditor IBAN", "iban"),
    ("payment.creditor_agent.bic", "Creditor agent BIC", "bic"),
    ("payment.creditor.name", "Creditor name", "text"),
    ("payment.creditor.town", "Creditor town", "text"),
    ("payment.creditor.post_code", "Creditor post code", "text"),
    ("payment.creditor.country", "Creditor country", "text"),
    ("payment.currency", "Currency", "currency"),
    ("payment.purpose", "Purpose / remittance", "text"),
)
FIELDS = frozenset(field for field, _, _ in EDITABLE)


def currency_codes() -> list[str]:
    """ISO 4217 alphabetic codes, embedded in the page for the as-you-type check (no CDN)."""
    return sorted(MINOR_UNITS)


def _lookup(payment: dict[str, Any] | None, field: str) -> str:
    value: Any = payment or {}
    for part in field.split(".")[1:]:
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def edit_rows(
    changes: list[dict[str, Any]], payment: dict[str, Any] | None, refs: list[str]
) -> list[dict[str, Any]]:
    """One row per editable field: label, check, current value, proposed value and its source."""
    proposed = {str(c.get("field")): c for c in changes}
    rows = []
    for field, label, check in EDITABLE:
        change = proposed.get(field)
        evidence = [str(e) for e in (change or {}).get("evidence") or []]
        source = " ".join(evidence) if evidence else ANALYST_ASSERTED
        options = list(dict.fromkeys([ANALYST_ASSERTED, *refs, *([source] if evidence else [])]))
        rows.append(
            {
                "field": field,
                "label": label,
                "check": check,
                "current": _lookup(payment, field),
                "value": str(change.get("new", "")) if change else _lookup(payment, field),
                "source": source,
                "options": options,
            }
        )
    return rows


def changes_from_form(
    form: dict[str, str], changes: list[dict[str, Any]], payment: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The ``edit`` decision's changes from the posted per-field form (see the module docstring)."""
    built: list[dict[str, Any]] = [c for c in changes if str(c.get("field")) not in FIELDS]
    for field, _, check in EDITABLE:
        value = form.get(f"value:{field}")
        if value is None:
            continue
        value = value.strip()
        if check in ("iban", "bic", "currency"):  # typed in groups of four or lower case: stored compact
            value = value.replace(" ", "").upper()
        current = _lookup(payment, field)
        if value == current:
            continue
        source = form.get(f"source:{field}", "").split() or [ANALYST_ASSERTED]
        built.append({"field": field, "old": current or None, "new": value, "evidence": source})
    return built
