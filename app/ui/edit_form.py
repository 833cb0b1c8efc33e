"""The case page's per-field edit form: which fields it offers, their pre-filled values and sources,
and the ``edit`` decision's changes built back from the posted form.

Each editable field is one input (``value:<field>``) and one source select (``source:<field>``):
``analyst-asserted`` (typed by the analyst) or the result refs of this case's tool calls (picked from
listed evidence; the server's guard checks that the value really appears there). A field left at the
payment's own value is no change. A proposed change to a field the form does not offer is kept as
proposed, so saving the form never silently drops part of the agent's proposal.

The list fields (address lines, remittance lines) are one input per line (``line:<field>:<n>``, lines
added and removed on the page), a marker ``lines:<field>`` and the same source select; a line left
blank is a removed line, and the lines in their posted order are the new value. Each row carries the
line rules of the message format the repair is written in (:data:`app.services.edits.LINE_RULES`) for
the as-you-type check; the server checks them again on save.
"""

from __future__ import annotations

from typing import Any

from app.services.edits import ANALYST_ASSERTED, LINE_RULES
from tools.messages.currencies import MINOR_UNITS

# (field, label, client-side check) — the scalar fields an analyst repairs. A table: its rows are alike
# by design.
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
# (field, label, kind of lines) — the list fields, edited line by line.
LINE_EDITABLE: tuple[tuple[str, str, str], ...] = (
    ("payment.creditor.address_lines", "Creditor address lines", "address"),
    ("payment.remittance_information.unstructured", "Remittance lines", "remittance"),
)
FIELDS = frozenset(field for field, _, _ in EDITABLE) | frozenset(f for f, _, _ in LINE_EDITABLE)


def currency_codes() -> list[str]:
    """ISO 4217 alphabetic codes, embedded in the page for the as-you-type check (no CDN)."""
    return sorted(MINOR_UNITS)


def _raw(payment: dict[str, Any] | None, field: str) -> Any:
    value: Any = payment or {}
    for part in field.split(".")[1:]:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _lookup(payment: dict[str, Any] | None, field: str) -> str:
    value = _raw(payment, field)
    return "" if value is None else str(value)


def _lines(value: Any) -> list[str]:
    return [str(line) for line in value] if isinstance(value, list) else []


def _source(change: dict[str, Any] | None, refs: list[str]) -> tuple[str, list[str]]:
    """The proposed change's source (its evidence, else analyst-asserted) and the select's options."""
    evidence = [str(e) for e in (change or {}).get("evidence") or []]
    source = " ".join(evidence) if evidence else ANALYST_ASSERTED
    return source, list(dict.fromkeys([ANALYST_ASSERTED, *refs, *([source] if evidence else [])]))


def edit_rows(
    changes: list[dict[str, Any]], payment: dict[str, Any] | None, refs: list[str], fmt: str = "fin"
) -> list[dict[str, Any]]:
    """One row per editable field: label, check, current value, proposed value and its source; a
    list field's row has ``lines`` (current and proposed) and its line rule instead."""
    proposed = {str(c.get("field")): c for c in changes}
    rows: list[dict[str, Any]] = []
    for field, label, check in EDITABLE:
        change = proposed.get(field)
        source, options = _source(change, refs)
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
    for field, label, kind in LINE_EDITABLE:
        change = proposed.get(field)
        source, options = _source(change, refs)
        rule = LINE_RULES[("xml" if fmt == "xml" else "fin", kind)]
        current = _lines(_raw(payment, field))
        rows.append(
            {
                "field": field,
                "label": label,
                "check": "lines",
                "current_lines": current,
                "lines": _lines(change.get("new")) if change else current,
                "max_length": rule.max_length,
                "max_lines": rule.max_lines or "",
                "charset": "x" if fmt != "xml" else "",
                "rule": rule.name,
                "source": source,
                "options": options,
            }
        )
    return rows


def posted_lines(form: dict[str, str], field: str) -> list[str] | None:
    """The lines posted for a list field in page order, blank ones dropped (``None``: not posted)."""
    if f"lines:{field}" not in form:
        return None
    prefix = f"line:{field}:"
    numbered = []
    for key, value in form.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            numbered.append((int(key[len(prefix) :]), value.strip()))
    return [value for _, value in sorted(numbered) if value]


def with_posted(rows: list[dict[str, Any]], form: dict[str, str]) -> list[dict[str, Any]]:
    """The rows showing what was posted (a refused save keeps the analyst's lines in place)."""
    shown = []
    for row in rows:
        lines = posted_lines(form, row["field"]) if row["check"] == "lines" else None
        shown.append(row if lines is None else dict(row, lines=lines))
    return shown


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
    for field, _, _ in LINE_EDITABLE:
        lines = posted_lines(form, field)
        if lines is None:
            continue
        current_lines = _lines(_raw(payment, field))
        if lines == current_lines:
            continue
        source = form.get(f"source:{field}", "").split() or [ANALYST_ASSERTED]
        built.append({"field": field, "old": current_lines or None, "new": lines, "evidence": source})
    return built
