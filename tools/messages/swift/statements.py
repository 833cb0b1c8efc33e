"""Map MT940/MT942/MT950 fields to a canonical Statement dict.

Balances are signed (debit negative). Each ``:61:`` becomes an entry: value date, entry (booking)
date with its year inferred from the value date (an entry date more than 330 days away from the
value date is taken to lie across the year boundary, as banks write only MMDD), debit/credit mark
including reversals (RC/RD), funds code, amount, transaction type, customer reference, bank
reference (after ``//``) and supplementary details. ``:86:`` information belongs to the ``:61:``
before it; an ``:86:`` after the closing balance is statement-level information.

Contract: :func:`map_statement` never raises; malformed values become findings.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from tools.messages.swift.blocks import RawField
from tools.messages.swift.builder import Collector
from tools.messages.swift.checks import check_iban, iban_candidate
from tools.messages.swift.values import iso_date, parse_date6, read_amount, read_currency, read_date

_BALANCE_KINDS = {
    "60F": "opening",
    "60M": "interim_opening",
    "60": "opening",
    "62F": "closing",
    "62M": "interim_closing",
    "62": "closing",
    "64": "closing_available",
    "65": "forward_available",
}
_BALANCE = re.compile(r"\s*([DC])(\d{6})([A-Z]{3})([\d,.]*)\s*", re.DOTALL)
# 6!n[4!n]2a[1!a]15d1!a3!c16x[//16x][34x]; entry date may be blank, a newline may split the line
_LINE61 = re.compile(
    r"(\d{6})(\d{4}|\s{4})?(RC|RD|C|D)([A-Z])?[\n ]?([\d,.]{1,15})"
    r"([A-Z][A-Z0-9 ]{3})?((?:(?!//)[^\n]){0,16})(?://([^\n]*))?(?:\n([\s\S]*))?"
)
_STATEMENT_NUMBER = re.compile(r"(\d+)(?:/(\d+))?")
_YEAR_BOUNDARY_DAYS = 330
_DATETIME_13D = re.compile(r"(\d{6})(\d{4})([+-]\d{4})?")


def map_statement(message_type: str, fields: list[RawField], out: Collector) -> dict[str, Any]:
    """Statement dict (canonical names) from the fields of an MT940/942/950."""
    st: dict[str, Any] = {"message_type": message_type, "balances": [], "entries": []}
    currency: str | None = None
    entry: dict[str, Any] | None = None
    for f in fields:
        tag, value = f.tag, f.value
        if tag == "20":
            st["reference"] = value.strip()
            out.field("statement.reference", st["reference"], tag, 1)
        elif tag == "21":
            st["related_reference"] = value.strip()
            out.field("statement.related_reference", st["related_reference"], tag, 1)
        elif tag in ("25", "25P"):
            lines = value.split("\n")
            account = lines[0].strip()
            iban = iban_candidate(account)
            if iban is not None:
                st["account"] = {"iban": iban}
                out.field("statement.account.iban", iban, tag, 1)
                check_iban(iban, "statement.account.iban", out)
            else:
                st["account"] = {"other": account}
                out.field("statement.account.other", account, tag, 1)
            if tag == "25P" and len(lines) > 1:
                st["servicer_bic"] = lines[1].strip()
                out.field("statement.servicer_bic", lines[1].strip(), tag, 2)
        elif tag in ("28C", "28"):
            m = _STATEMENT_NUMBER.fullmatch(value.strip())
            if m is None:
                out.finding("FIELD_FORMAT", "warning", f"field {tag}: {value!r}", "statement.statement_id")
                st["statement_id"] = value.strip()
            else:
                st["statement_id"] = m.group(1)
                if m.group(2):
                    st["sequence_number"] = m.group(2)
                    out.field("statement.sequence_number", m.group(2), tag, 1)
            out.field("statement.statement_id", st["statement_id"], tag, 1)
        elif tag in _BALANCE_KINDS:
            balance = _balance(tag, value, len(st["balances"]), out)
            if balance is not None:
                st["balances"].append(balance)
                currency = currency or balance.get("currency")
            entry = None  # an :86: after a balance describes the statement, not the last entry
        elif tag == "61":
            entry = _entry(value, len(st["entries"]), currency, out)
            if entry is not None:
                st["entries"].append(entry)
        elif tag == "86":
            lines = value.split("\n")
            if entry is not None:
                entry.setdefault("information", []).extend(lines)
                path = f"statement.entries[{len(st['entries']) - 1}].information"
            else:
                st.setdefault("information", []).extend(lines)
                path = "statement.information"
            out.field(path, value, tag, 1)  # one provenance record for the whole :86: text
        elif tag == "34F":
            # MT942 floor limit: its currency is the account's when no balance names one
            ccy = value.strip()[:3]
            if len(ccy) == 3 and ccy.isalpha():
                currency = currency or ccy.upper()
        elif tag == "13D":
            created = _datetime(value.strip())
            if created is None:
                out.finding("FIELD_FORMAT", "error", f"field 13D: {value!r}", "statement.created_at")
            else:
                st["created_at"] = created
                out.field("statement.created_at", created.isoformat(), tag, 1)
    if currency:
        for e in st["entries"]:
            e.setdefault("currency", currency)
    return st


def _balance(tag: str, value: str, index: int, out: Collector) -> dict[str, Any] | None:
    path = f"statement.balances[{index}]"
    m = _BALANCE.fullmatch(value)
    if m is None:
        out.finding("FIELD_FORMAT", "error", f"field {tag}: {value!r} is not a balance", path)
        return None
    mark, when_text, ccy_text, amount_text = m.groups()
    currency = read_currency(ccy_text, tag, f"{path}.currency", out)
    amount = read_amount(amount_text, currency, tag, f"{path}.amount", out)
    if amount is None:
        return None
    when = read_date(when_text, tag, f"{path}.date", out, clamp=True)
    signed = -amount if mark == "D" else amount
    balance: dict[str, Any] = {"kind": _BALANCE_KINDS[tag], "amount": signed}
    out.field(f"{path}.amount", format(signed, "f"), tag, 1)
    if currency:
        balance["currency"] = currency
        out.field(f"{path}.currency", currency, tag, 1)
    if when is not None:
        balance["date"] = when
        out.field(f"{path}.date", iso_date(when), tag, 1)
    return balance


def _entry(value: str, index: int, currency: str | None, out: Collector) -> dict[str, Any] | None:
    path = f"statement.entries[{index}]"
    m = _LINE61.match(value)
    if m is None:
        out.finding("FIELD_FORMAT", "error", f"field 61: {value[:40]!r} is not a statement line", path)
        return None
    value_text, entry_text, mark, funds, amount_text, ttype, cust, bank, details = m.groups()
    amount = read_amount(amount_text, currency, "61", f"{path}.amount", out)
    if amount is None:
        return None
    entry: dict[str, Any] = {
        "amount": amount,
        "credit_debit": "CRDT" if mark in ("C", "RD") else "DBIT",
    }
    # RC reverses a credit (money out), RD a debit (money back in): record the direction of this entry
    if mark.startswith("R"):
        entry["reversal"] = True
    out.field(f"{path}.amount", format(amount, "f"), "61", 1)
    out.field(f"{path}.credit_debit", entry["credit_debit"], "61", 1)
    value_date = read_date(value_text, "61", f"{path}.value_date", out, clamp=True)
    if value_date is not None:
        entry["value_date"] = value_date
        out.field(f"{path}.value_date", iso_date(value_date), "61", 1)
        if entry_text and entry_text.strip():
            booking = _entry_date(value_date, entry_text)
            if booking is None:
                out.finding(
                    "FIELD_FORMAT", "warning", f"field 61: entry date {entry_text!r}", f"{path}.booking_date"
                )
            else:
                entry["booking_date"] = booking
                out.field(f"{path}.booking_date", iso_date(booking), "61", 1)
    if funds:
        entry["funds_code"] = funds
        out.field(f"{path}.funds_code", funds, "61", 1)
    if ttype:
        entry["transaction_code"] = ttype
        out.field(f"{path}.transaction_code", ttype, "61", 1)
    if cust and cust.strip():
        entry["customer_reference"] = cust.strip()
        out.field(f"{path}.customer_reference", cust.strip(), "61", 1)
    if bank and bank.strip():
        entry["bank_reference"] = bank.strip()
        out.field(f"{path}.bank_reference", bank.strip(), "61", 1)
    if details and details.strip():
        entry["supplementary_details"] = details.strip()
        out.field(f"{path}.supplementary_details", details.strip(), "61", 2)
    return entry


def _entry_date(value_date: date, mmdd: str) -> date | None:
    try:
        booking = date(value_date.year, int(mmdd[:2]), int(mmdd[2:]))
    except ValueError:
        return None
    if (value_date - booking).days >= _YEAR_BOUNDARY_DAYS:
        return _shift_year(booking, 1)
    if (booking - value_date).days >= _YEAR_BOUNDARY_DAYS:
        return _shift_year(booking, -1)
    return booking


def _shift_year(d: date, years: int) -> date | None:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _datetime(text: str) -> datetime | None:
    m = _DATETIME_13D.fullmatch(text)
    if m is None:
        return None
    day = parse_date6(m.group(1))
    hhmm = m.group(2)
    if day is None or int(hhmm[:2]) > 23 or int(hhmm[2:]) > 59:
        return None
    result = datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[2:]))
    if m.group(3):
        from datetime import timezone

        sign = 1 if m.group(3)[0] == "+" else -1
        offset = timedelta(hours=int(m.group(3)[1:3]), minutes=int(m.group(3)[3:5]))
        if offset < timedelta(hours=24):
            result = result.replace(tzinfo=timezone(sign * offset))
    return result
