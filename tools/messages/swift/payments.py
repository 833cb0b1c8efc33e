"""Map the block-4 fields of payment-type FIN messages to a canonical Payment dict.

Covers MT103 (incl. STP and REMIT), MT202/MT205 (and their COV variants), MT900/MT910 and the
investigation family n92/n95/n96/n99. Meanings follow ISO 20022 as the contract asks:

* MT103 and MT900/910: 50a debtor, 59a creditor, 52a debtor agent, 57a creditor agent, 56a
  intermediary, 53a/54a the sender's/receiver's correspondents, 51A the instructing agent.
* MT202/205 (pacs.009 meaning): 52a ordering institution is the debtor, 58a beneficiary institution
  the creditor (as parties identified by BIC). In the COV variants sequence B's 50a/59a, the
  underlying customers, become ``ultimate_debtor`` / ``ultimate_creditor``.

Contract: :func:`map_payment` never raises; malformed values become findings in the Collector.
"""

from __future__ import annotations

import re
from typing import Any

from tools.messages.currencies import MINOR_UNITS
from tools.messages.swift.blocks import RawField
from tools.messages.swift.builder import Collector
from tools.messages.swift.values import (
    iso_date,
    parse_date6,
    read_agent,
    read_amount,
    read_ccy_amount,
    read_currency,
    read_date,
    read_party,
)

_CHARGE_BEARER = {"OUR": "DEBT", "BEN": "CRED", "SHA": "SHAR"}
_REMITTANCE_CODES = re.compile(r"/(INV|RFB|ROC|IPI|RFF|TSU)/([^/\n]+)")
_RATE = re.compile(r"[0-9]{1,12},[0-9]*")
_DATE_CCY_AMOUNT = re.compile(r"([0-9]{6})([A-Z]{3})([0-9]{1,15},[0-9]*)")  # 32A: 6!n3!a15d

# Agent roles by the two-digit tag, for customer transfers and FI transfers.
_CUSTOMER_AGENTS = {
    "51": "instructing_agent",
    "52": "debtor_agent",
    "53": "senders_correspondent",
    "54": "receivers_correspondent",
    "56": "intermediary_agent",
    "57": "creditor_agent",
}
_FI_AGENTS = {
    "51": "instructing_agent",
    "53": "senders_correspondent",
    "54": "receivers_correspondent",
    "56": "intermediary_agent",
    "57": "creditor_agent",
}
_NARRATIVE_TAGS = {"75", "76", "77A", "79"}


def _lines(value: str) -> list[str]:
    return [x.rstrip() for x in value.split("\n") if x.strip()]


# What map_payment does with a field, by tag; the parties and agents (50a-59a) go by tag number.
(
    _REFERENCE,
    _RELATED,
    _DATE_AMOUNT,
    _SETTLED_AMOUNT,
    _INSTRUCTED,
    _EXCHANGE_RATE,
    _OPERATION_CODE,
    _INSTRUCTION_CODE,
    _PURPOSE,
    _ACCOUNT,
    _REMITTANCE,
    _BEARER,
    _CHARGES,
    _SENDER_INFO,
    _REGULATORY,
    _NARRATIVE,
) = range(1, 17)
_ACTIONS = {
    "20": _REFERENCE,
    "21": _RELATED,
    "32A": _DATE_AMOUNT,
    "32B": _SETTLED_AMOUNT,
    "33B": _INSTRUCTED,
    "36": _EXCHANGE_RATE,
    "23B": _OPERATION_CODE,
    "23E": _INSTRUCTION_CODE,
    "26T": _PURPOSE,
    "25": _ACCOUNT,
    "70": _REMITTANCE,
    "71A": _BEARER,
    "71F": _CHARGES,
    "71G": _CHARGES,
    "72": _SENDER_INFO,
    "77B": _REGULATORY,
    **dict.fromkeys(_NARRATIVE_TAGS | {"77T"}, _NARRATIVE),
}
_DEBTOR_OPTIONS = frozenset({"", "A", "F", "K", "G", "H", "C", "L"})
_CREDITOR_OPTIONS = frozenset({"", "A", "F"})
_LINE_LISTS = {
    _SENDER_INFO: "sender_to_receiver_information",
    _REGULATORY: "regulatory_reporting",
    _NARRATIVE: "narrative",
}


def map_payment(message_type: str, fields: list[RawField], cov: bool, out: Collector) -> dict[str, Any]:
    """Payment dict (canonical field names) from ``fields`` of an MT ``message_type``."""
    pay: dict[str, Any] = {"message_type": message_type + ("COV" if cov else "")}
    family = message_type[0]
    fi_transfer = message_type in ("202", "203", "205")
    fi_cov = fi_transfer and cov
    agents = _FI_AGENTS if fi_transfer else _CUSTOMER_AGENTS
    in_seq_b = False
    remittance: list[str] = []
    references: list[str] = []
    record = out.fields.append  # out.field without a call per value
    actions = _ACTIONS
    for f in fields:
        tag, value = f.tag, f.value
        if fi_cov and tag[:2] in ("50", "59"):
            in_seq_b = True
        if tag not in actions:
            num = tag[:2]
            if num == "50":
                option = tag[2:]
                if option in _DEBTOR_OPTIONS:
                    role = "ultimate_debtor" if fi_transfer else "debtor"
                    pay[role] = read_party(option, value, tag, "payment." + role, out)
            elif num == "59":
                option = tag[2:]
                if option in _CREDITOR_OPTIONS:
                    role = "ultimate_creditor" if fi_transfer else "creditor"
                    pay[role] = read_party(option, value, tag, "payment." + role, out)
            elif in_seq_b:
                pass
            elif fi_transfer and (num == "52" or num == "58"):
                role = "debtor" if num == "52" else "creditor"
                pay[role] = read_agent(tag[2:], value, tag, "payment." + role, out, as_party=True)
            elif num in agents:
                role = agents[num]
                pay[role] = read_agent(tag[2:], value, tag, "payment." + role, out)
            continue
        action = actions[tag]
        if action == _REFERENCE:
            pay["reference"] = text = value.strip()
            record(("payment.reference", text, tag, 1))
        elif action == _DATE_AMOUNT:
            _value_date_amount(value, tag, pay, out)
        elif action == _OPERATION_CODE:
            pay["bank_operation_code"] = text = value.strip()
            record(("payment.bank_operation_code", text, tag, 1))
        elif action == _BEARER:
            _charge_bearer(value.strip(), tag, pay, out)
        elif action == _RELATED:
            pay["related_reference"] = text = value.strip()
            record(("payment.related_reference", text, tag, 1))
            if message_type[1:] in ("92", "95", "96"):
                pay["original_reference"] = text
                record(("payment.original_reference", text, tag, 1))
        elif action == _SETTLED_AMOUNT:
            if "amount" not in pay:
                ccy, amount = read_ccy_amount(value, tag, "payment.currency", "payment.amount", out)
                _store_ccy_amount(pay, ccy, amount, "currency", "amount", tag, out)
        elif action == _INSTRUCTED:
            if not in_seq_b or "instructed_amount" not in pay:
                ccy, amount = read_ccy_amount(
                    value, tag, "payment.instructed_currency", "payment.instructed_amount", out
                )
                _store_ccy_amount(pay, ccy, amount, "instructed_currency", "instructed_amount", tag, out)
        elif action == _EXCHANGE_RATE:
            _exchange_rate(value, tag, pay, out)
        elif action == _INSTRUCTION_CODE:
            text = value.strip()
            pay.setdefault("instruction_codes", []).append(text)
            record(("payment.instruction_codes", text, tag, 1))
        elif action == _PURPOSE:
            pay["purpose"] = text = value.strip()
            record(("payment.purpose", text, tag, 1))
        elif action == _ACCOUNT:
            if family == "9":
                _confirmation_account(message_type, value, pay, out)
        elif action == _REMITTANCE:
            lines = _lines(value)
            remittance.extend(lines)
            for i, line in enumerate(lines, start=1):
                record(("payment.remittance_information.unstructured", line, tag, i))
            for m in _REMITTANCE_CODES.finditer(value):
                references.append(m.group(2).strip())
                record(("payment.remittance_information.references", m.group(2).strip(), tag, 1))
        elif action == _CHARGES:
            kind = "sender" if tag == "71F" else "receiver"
            ccy, amount = read_ccy_amount(value, tag, "payment.charges", "payment.charges", out)
            if ccy is not None and amount is not None:
                pay.setdefault("charges", []).append({"amount": amount, "currency": ccy, "kind": kind})
                record(("payment.charges", f"{kind} {ccy} {amount}", tag, 1))
        else:  # 72, 77B and the narrative fields: one list entry per non-blank line
            key = _LINE_LISTS[action]
            name = "payment." + key
            for i, line in enumerate(_lines(value), start=1):
                pay.setdefault(key, []).append(line)
                record((name, line, tag, i))
    if remittance or references:
        pay["remittance_information"] = {"unstructured": remittance, "references": references}
    return pay


def _value_date_amount(value: str, tag: str, pay: dict[str, Any], out: Collector) -> None:
    value = value.strip()
    m = _DATE_CCY_AMOUNT.fullmatch(value)
    if m is not None:
        # The usual 32A: a calendar date and a known currency give no finding; the amount's own
        # checks stay in read_amount.
        date_text, ccy, amount_text = m.groups()
        when = parse_date6(date_text)
        if when is not None and ccy in MINOR_UNITS:
            pay["value_date"] = when
            out.fields.append(("payment.value_date", iso_date(when), tag, 1))
            amount = read_amount(amount_text, ccy, tag, "payment.amount", out)
            _store_ccy_amount(pay, ccy, amount, "currency", "amount", tag, out)
            return
    when = read_date(value[:6], tag, "payment.value_date", out)
    if when is not None:
        pay["value_date"] = when
        out.fields.append(("payment.value_date", iso_date(when), tag, 1))
    ccy = read_currency(value[6:9], tag, "payment.currency", out)
    amount = read_amount(value[9:], ccy, tag, "payment.amount", out)
    _store_ccy_amount(pay, ccy, amount, "currency", "amount", tag, out)


def _store_ccy_amount(
    pay: dict[str, Any],
    ccy: str | None,
    amount: object,
    ccy_key: str,
    amount_key: str,
    tag: str,
    out: Collector,
) -> None:
    if ccy is not None:
        pay[ccy_key] = ccy
        out.fields.append(("payment." + ccy_key, ccy, tag, 1))
    if amount is not None:
        pay[amount_key] = amount
        out.fields.append(("payment." + amount_key, format(amount, "f"), tag, 1))


def _exchange_rate(value: str, tag: str, pay: dict[str, Any], out: Collector) -> None:
    text = value.strip()
    if not _RATE.fullmatch(text):
        out.finding("FIELD_FORMAT", "error", f"field 36: {text!r} is not a rate", "payment.exchange_rate")
    amount = read_amount(text, None, tag, "payment.exchange_rate", out) if text else None
    if amount is not None:
        pay["exchange_rate"] = amount
        out.field("payment.exchange_rate", format(amount, "f"), tag, 1)


def _charge_bearer(code: str, tag: str, pay: dict[str, Any], out: Collector) -> None:
    bearer = _CHARGE_BEARER.get(code)
    if bearer is None:
        out.finding(
            "FIELD_FORMAT", "error", f"field 71A: {code!r} is not OUR, BEN or SHA", "payment.charge_bearer"
        )
        return
    pay["charge_bearer"] = bearer
    out.field("payment.charge_bearer", bearer, tag, 1)


def _confirmation_account(message_type: str, value: str, pay: dict[str, Any], out: Collector) -> None:
    """MT900 confirms a debit of the receiver's account, MT910 a credit: 25 is that account."""
    role = "debtor" if message_type.endswith("00") else "creditor"
    account = value.split("\n")[0].strip()
    if account:
        party = pay.setdefault(role, {})
        party["account"] = {"other": account}
        out.field(f"payment.{role}.account.other", account, "25", 1)
