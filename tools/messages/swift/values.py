"""Field-value parsers for FIN: amounts, dates, currency/amount pairs, parties and agents.

Contract: every function here returns ``None`` (or a partial result) for a malformed value and
reports why through the :class:`Collector` it is given; none raises on any input. Amounts come
back as ``Decimal`` with a dot separator; YYMMDD dates use a 1980-2079 window.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal, InvalidOperation, getcontext
from functools import lru_cache
from typing import Any

from tools.messages.currencies import MINOR_UNITS
from tools.messages.model import amount_finding
from tools.messages.swift.builder import Collector
from tools.messages.swift.checks import check_bic, check_iban, iban_candidate

_AMOUNT = re.compile(r"[0-9]{1,15},[0-9]*")
_LOOSE_AMOUNT = re.compile(r"[0-9]*[,.]?[0-9]*")
_DATE6 = re.compile(r"[0-9]{6}")
_CCY = re.compile(r"[A-Z]{3}")
_BIC_LINE = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_STRUCTURED_LINE = re.compile(r"([1-8])/(.*)")
# Digits up to which a decimal's normalize() is exact in the default context (precision 28).
_EXACT_DIGITS = 28

# date.isoformat, cached for the same reason as parse_date6 (dates are immutable).
iso_date = lru_cache(maxsize=4096)(date.isoformat)


@lru_cache(maxsize=4096)
def parse_date6(text: str) -> date | None:
    """YYMMDD to a date, or None when it is not a calendar date.

    Cached: a batch of messages shares a few value and booking dates, and the parse (a date()
    call with its argument parsing) costs more than the look-up.
    """
    if len(text) != 6 or not (text.isascii() and text.isdigit()):  # [0-9]{6}
        return None
    yy, mmdd = divmod(int(text), 10000)
    mm, dd = divmod(mmdd, 100)
    try:
        return date(2000 + yy if yy < 80 else 1900 + yy, mm, dd)
    except ValueError:
        return None


def parse_amount(text: str) -> tuple[Decimal | None, bool]:
    """A FIN amount (``1234,56``; comma mandatory) as Decimal, and whether it was well formed.

    Lenient: ``,32``, ``12.5`` or ``100`` still give a number (flagged as not well formed).
    """
    if _AMOUNT.fullmatch(text):
        whole, _, frac = text.partition(",")
        return Decimal(f"{whole}.{frac}" if frac else whole), True
    if text and len(text) <= 20 and _LOOSE_AMOUNT.fullmatch(text) and any(c.isdigit() for c in text):
        whole, _, frac = text.replace(".", ",").partition(",")
        try:
            return Decimal(f"{whole or '0'}.{frac}" if frac else whole), False
        except InvalidOperation:  # pragma: no cover - the regex admits digits only
            return None, False
    return None, False


def read_amount(text: str, currency: str | None, tag: str, path: str, out: Collector) -> Decimal | None:
    """Parse an amount and report format and currency-decimals problems against ``path``."""
    if _AMOUNT.fullmatch(text):
        # The usual, well-formed amount: its decimals, trailing zeros aside, are read off the text
        # (exact while the digits fit the context precision: Decimal(text) is exact, normalize()
        # only drops trailing zeros); amount_finding words the rare problem.
        whole, _, frac = text.partition(",")
        exact = Decimal(f"{whole}.{frac}" if frac else whole)
        if currency is not None and currency in MINOR_UNITS:
            frac = frac.rstrip("0")
            if (
                len(whole) + len(frac) > _EXACT_DIGITS
                or len(frac) > MINOR_UNITS[currency]
                or getcontext().prec < _EXACT_DIGITS
            ):
                problem = amount_finding(exact, currency, path)
                if problem is not None:
                    out.finding(problem.code, problem.severity, f"field {tag}: {problem.message}", path)
        return exact
    amount, ok = parse_amount(text)
    if amount is None:
        out.finding("FIELD_FORMAT", "error", f"field {tag}: {text!r} is not an amount", path)
        return None
    if not ok:
        out.finding(
            "FIELD_FORMAT",
            "error",
            f"field {tag}: amount {text!r} must be digits with one decimal comma",
            path,
        )
    if currency is not None and currency in MINOR_UNITS:
        problem = amount_finding(amount, currency, path)
        if problem is not None:
            out.finding(problem.code, problem.severity, f"field {tag}: {problem.message}", path)
    return amount


def read_currency(text: str, tag: str, path: str, out: Collector) -> str | None:
    if text in MINOR_UNITS:  # the usual case; every ISO 4217 code matches the pattern below
        return text
    if not _CCY.fullmatch(text):
        out.finding("FIELD_FORMAT", "error", f"field {tag}: {text!r} is not a currency code", path)
        return None
    if text not in MINOR_UNITS:
        out.finding("CURRENCY_UNKNOWN", "error", f"field {tag}: {text} is not an ISO 4217 currency", path)
    return text


def read_date(text: str, tag: str, path: str, out: Collector, clamp: bool = False) -> date | None:
    """YYMMDD date; with ``clamp`` a day past the month's end (``160230``, which some banks use for
    month-end postings) reads as the month's last day, reported as a warning instead of an error."""
    value = parse_date6(text)
    if (
        value is None
        and clamp
        and _DATE6.fullmatch(text)
        and 1 <= int(text[2:4]) <= 12
        and int(text[4:]) <= 31
    ):
        yy, mm = int(text[:2]), int(text[2:4])
        year = 2000 + yy if yy < 80 else 1900 + yy
        value = date(year, mm, calendar.monthrange(year, mm)[1])
        out.finding(
            "FIELD_FORMAT", "warning", f"field {tag}: {text!r} is past the month's end; read as {value}", path
        )
        return value
    if value is None:
        out.finding("FIELD_FORMAT", "error", f"field {tag}: {text!r} is not a valid YYMMDD date", path)
    return value


def read_ccy_amount(
    value: str, tag: str, ccy_path: str, amount_path: str, out: Collector
) -> tuple[str | None, Decimal | None]:
    """``3!a15d`` (33B, 71F, 71G ...)."""
    currency = read_currency(value[:3], tag, ccy_path, out)
    amount = read_amount(value[3:].strip(), currency, tag, amount_path, out)
    return currency, amount


def _account(line: str, path: str, tag: str, line_no: int, out: Collector) -> dict[str, str] | None:
    """``/account`` line (with an optional ``/D/`` or ``/C/`` mark) as Account dict (iban or other)."""
    value = line[1:]
    if len(value) > 2 and value[1] == "/" and value[0] in "DC":
        value = value[2:]
    value = value.strip()
    if not value:
        return None
    iban = iban_candidate(value)
    if iban is not None:
        name = path + ".account.iban"
        out.fields.append((name, iban, tag, line_no))
        check_iban(iban, name, out)
        return {"iban": iban}
    out.fields.append((path + ".account.other", value, tag, line_no))
    return {"other": value}


def read_party(option: str, value: str, tag: str, path: str, out: Collector) -> dict[str, Any]:
    """Ordering customer / beneficiary (50A/F/K, 59/59A/59F) as a Party dict."""
    lines = value.split("\n")  # never empty
    party: dict[str, Any] = {}
    start = 0
    first = lines[0]
    if first[:1] == "/":
        account = _account(first, path, tag, 1, out)
        if account is not None:
            party["account"] = account
        start = 1
        del lines[0]
    elif option == "F" and "/" in first and not _STRUCTURED_LINE.match(first):
        party["identifier"] = first.strip()  # party identifier: code/country/identifier
        out.fields.append((path + ".identifier", party["identifier"], tag, 1))
        start = 1
        del lines[0]
    rest = lines
    if option == "A":
        bic = rest[0].strip() if rest else ""
        if bic:
            party["identifier"] = bic
            name = path + ".identifier"
            out.fields.append((name, bic, tag, start + 1))
            check_bic(bic, name, out)
        else:
            out.finding("FIELD_FORMAT", "error", f"field {tag}: no BIC", f"{path}.identifier")
        return party
    if option == "F" and any(_STRUCTURED_LINE.match(x) for x in rest):
        _structured_party(rest, start, tag, path, party, out)
        return party
    names = list(filter(None, map(str.strip, rest)))
    if names:
        party["name"] = names[0]
        record = out.fields.append
        record((path + ".name", names[0], tag, start + 1))
        if len(names) > 1:
            party["address_lines"] = names[1:]
            name = path + ".address_lines"
            for i, line in enumerate(names[1:], start=start + 2):
                record((name, line, tag, i))
    return party


def _structured_party(
    lines: list[str], start: int, tag: str, path: str, party: dict[str, Any], out: Collector
) -> None:
    """50F/59F numbered lines: 1/ name, 2/ address, 3/ country/town, 4-8/ identification."""
    names: list[str] = []
    address: list[str] = []
    for offset, line in enumerate(lines, start=start + 1):
        m = _STRUCTURED_LINE.match(line)
        if m is None:
            if line.strip():
                out.finding("FIELD_FORMAT", "warning", f"field {tag}: line {line!r} has no number", path)
            continue
        code, text = m.group(1), m.group(2).strip()
        if code == "1":
            names.append(text)
            out.field(f"{path}.name", text, tag, offset)
        elif code == "2":
            address.append(text)
            out.field(f"{path}.address_lines", text, tag, offset)
        elif code == "3":
            country, _, town = text.partition("/")
            if "country" not in party and len(country) == 2 and country.isalpha():
                party["country"] = country
                out.field(f"{path}.country", country, tag, offset)
                if town:
                    party["town"] = town
                    out.field(f"{path}.town", town, tag, offset)
            else:
                # a second 3/ line continues the town
                party["town"] = f"{party.get('town', '')} {text}".strip()
                out.field(f"{path}.town", text, tag, offset)
        elif code in "67" and "identifier" not in party:
            party["identifier"] = text
            out.field(f"{path}.identifier", text, tag, offset)
    if names:
        party["name"] = " ".join(names)
    if address:
        party["address_lines"] = address


def read_agent(
    option: str, value: str, tag: str, path: str, out: Collector, as_party: bool = False
) -> dict[str, Any]:
    """Financial institution fields (51A, 52a-58a) as an Agent dict (a Party dict if ``as_party``).

    Option A: [/party identifier] + BIC; B: [/party identifier] + location; C: /party identifier;
    D: [/party identifier] + name and address. A ``//`` party identifier is a national clearing
    code (``//FW021000018``), a single ``/`` an account (optionally ``/D/`` or ``/C/`` marked).
    As a Party, the BIC (or else the clearing code) becomes the party's ``identifier``.
    """
    bic_key = "identifier" if as_party else "bic"
    clearing_key = "identifier" if as_party else "clearing_id"
    lines = value.split("\n")  # never empty
    agent: dict[str, Any] = {}
    start = 0
    first = lines[0]
    if first[:1] == "/":
        if first[:2] == "//":
            agent[clearing_key] = first[2:].strip()
            out.fields.append((f"{path}.{clearing_key}", agent[clearing_key], tag, 1))
        else:
            account = _account(first, path, tag, 1, out)
            if account is not None:
                agent["account"] = account
        start = 1
        del lines[0]
    rest = list(filter(str.strip, lines))  # the non-blank lines
    if option == "A":
        if rest:
            bic = rest[0].strip()
            agent[bic_key] = bic
            name = f"{path}.{bic_key}"
            out.fields.append((name, bic, tag, start + 1))
            check_bic(bic, name, out)
        else:
            out.finding("FIELD_FORMAT", "error", f"field {tag}: option A without a BIC", f"{path}.{bic_key}")
    elif option in ("B", "D") and rest:
        if option == "B":
            agent["address_lines"] = [x.strip() for x in rest]
            for i, line in enumerate(rest, start=start + 1):
                out.field(f"{path}.address_lines", line.strip(), tag, i)
        else:
            agent["name"] = rest[0].strip()
            out.field(f"{path}.name", agent["name"], tag, start + 1)
            if len(rest) > 1:
                agent["address_lines"] = [x.strip() for x in rest[1:]]
                for i, line in enumerate(rest[1:], start=start + 2):
                    out.field(f"{path}.address_lines", line.strip(), tag, i)
    return agent
