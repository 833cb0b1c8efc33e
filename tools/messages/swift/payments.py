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

from tools.messages.swift.blocks import RawField
from tools.messages.swift.builder import Collector
from tools.messages.swift.values import (
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


def map_payment(message_type: str, fields: list[RawField], cov: bool, out: Collector) -> dict[str, Any]:
    """Payment dict (canonical field names) from ``fields`` of an MT ``message_type``."""
    pay: dict[str, Any] = {"message_type": message_type + ("COV" if cov else "")}
    family = message_type[0]
    fi_transfer = message_type in ("202", "203", "205")
    in_seq_b = False
    remittance: list[str] = []
    references: list[str] = []
    for f in fields:
        tag, value = f.tag, f.value
        num, option = tag[:2], tag[2:]
        if fi_transfer and cov and num in ("50", "59"):
            in_seq_b = True
        if tag == "20":
            pay["reference"] = value.strip()
            out.field("payment.reference", pay["reference"], tag, 1)
        elif tag == "21":
            pay["related_reference"] = value.strip()
            out.field("payment.related_reference", pay["related_reference"], tag, 1)
            if message_type[1:] in ("92", "95", "96"):
                pay["original_reference"] = pay["related_reference"]
                out.field("payment.original_reference", pay["related_reference"], tag, 1)
        elif tag == "32A":
            _value_date_amount(value, tag, pay, out)
        elif tag == "32B" and "amount" not in pay:
            ccy, amount = read_ccy_amount(value, tag, "payment.currency", "payment.amount", out)
            _store_ccy_amount(pay, ccy, amount, "currency", "amount", tag, out)
        elif tag == "33B" and (not in_seq_b or "instructed_amount" not in pay):
            ccy, amount = read_ccy_amount(
                value, tag, "payment.instructed_currency", "payment.instructed_amount", out
            )
            _store_ccy_amount(pay, ccy, amount, "instructed_currency", "instructed_amount", tag, out)
        elif tag == "36":
            _exchange_rate(value, tag, pay, out)
        elif tag == "23B":
            pay["bank_operation_code"] = value.strip()
            out.field("payment.bank_operation_code", pay["bank_operation_code"], tag, 1)
        elif tag == "23E":
            pay.setdefault("instruction_codes", []).append(value.strip())
            out.field("payment.instruction_codes", value.strip(), tag, 1)
        elif tag == "26T":
            pay["purpose"] = value.strip()
            out.field("payment.purpose", pay["purpose"], tag, 1)
        elif num == "50" and option in ("", "A", "F", "K", "G", "H", "C", "L"):
            role = "ultimate_debtor" if fi_transfer else "debtor"
            pay[role] = read_party(option, value, tag, f"payment.{role}", out)
        elif num == "59" and option in ("", "A", "F"):
            role = "ultimate_creditor" if fi_transfer else "creditor"
            pay[role] = read_party(option, value, tag, f"payment.{role}", out)
        elif fi_transfer and num in ("52", "58") and not in_seq_b:
            role = "debtor" if num == "52" else "creditor"
            pay[role] = read_agent(option, value, tag, f"payment.{role}", out, as_party=True)
        elif num in (_FI_AGENTS if fi_transfer else _CUSTOMER_AGENTS) and not in_seq_b:
            role = (_FI_AGENTS if fi_transfer else _CUSTOMER_AGENTS)[num]
            pay[role] = read_agent(option, value, tag, f"payment.{role}", out)
        elif tag == "25" and family == "9":
            _confirmation_account(message_type, value, pay, out)
        elif tag == "70":
            lines = _lines(value)
            remittance.extend(lines)
            for i, line in enumerate(lines, start=1):
                out.field("payment.remittance_information.unstructured", line, tag, i)
            for m in _REMITTANCE_CODES.finditer(value):
                references.append(m.group(2).strip())
                out.field("payment.remittance_information.references", m.group(2).strip(), tag, 1)
        elif tag == "71A":
            _charge_bearer(value.strip(), tag, pay, out)
        elif tag in ("71F", "71G"):
            kind = "sender" if tag == "71F" else "receiver"
            ccy, amount = read_ccy_amount(value, tag, "payment.charges", "payment.charges", out)
            if ccy is not None and amount is not None:
                pay.setdefault("charges", []).append({"amount": amount, "currency": ccy, "kind": kind})
                out.field("payment.charges", f"{kind} {ccy} {amount}", tag, 1)
        elif tag == "72":
            for i, line in enumerate(_lines(value), start=1):
                pay.setdefault("sender_to_receiver_information", []).append(line)
                out.field("payment.sender_to_receiver_information", line, tag, i)
        elif tag == "77B":
            for i, line in enumerate(_lines(value), start=1):
                pay.setdefault("regulatory_reporting", []).append(line)
                out.field("payment.regulatory_reporting", line, tag, i)
        elif tag in _NARRATIVE_TAGS or tag == "77T":
            for i, line in enumerate(_lines(value), start=1):
                pay.setdefault("narrative", []).append(line)
                out.field("payment.narrative", line, tag, i)
    if remittance or references:
        pay["remittance_information"] = {"unstructured": remittance, "references": references}
    return pay


def _value_date_amount(value: str, tag: str, pay: dict[str, Any], out: Collector) -> None:
    value = value.strip()
    when = read_date(value[:6], tag, "payment.value_date", out)
    if when is not None:
        pay["value_date"] = when
        out.field("payment.value_date", when.isoformat(), tag, 1)
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
        out.field(f"payment.{ccy_key}", ccy, tag, 1)
    if amount is not None:
        pay[amount_key] = amount
        out.field(f"payment.{amount_key}", format(amount, "f"), tag, 1)


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
