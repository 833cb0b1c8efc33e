"""Generic validation of an ISO 20022 extraction: amounts, IBANs, BICs, UETRs, mandatory elements.

Contract: each function returns findings and never raises. Codes: ``AMOUNT_DECIMALS`` and
``CURRENCY_UNKNOWN`` (via :func:`tools.messages.model.amount_finding`), ``IBAN_CHECKSUM`` /
``IBAN_INVALID``, ``BIC_INVALID`` (all through ``schwifty``), ``UETR_FORMAT``, ``MANDATORY_ELEMENT``
(an element the message definition requires is missing), ``NB_OF_TXS_MISMATCH`` (warning).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from schwifty import BIC, IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException

from tools.messages.iso20022.envelope import Located
from tools.messages.iso20022.tree import Node
from tools.messages.model import Account, Agent, Finding, Party, Payment, Statement, amount_finding

_UETR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_BIC_SHAPE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")

# Required elements per message, relative to the message element. "A//B" means: for each A, B.
# Data: each message type lists its own mandatory paths, overlapping by design.
MANDATORY: dict[str, tuple[str, ...]] = {
    "pacs.008": (
        "GrpHdr/MsgId",
        "GrpHdr/CreDtTm",
        "GrpHdr/NbOfTxs",
        "CdtTrfTxInf",
        "CdtTrfTxInf//PmtId/EndToEndId",
        "CdtTrfTxInf//IntrBkSttlmAmt",
        "CdtTrfTxInf//ChrgBr",
        "CdtTrfTxInf//Dbtr",
        "CdtTrfTxInf//DbtrAgt",
        "CdtTrfTxInf//CdtrAgt",
        "CdtTrfTxInf//Cdtr",
    ),
    "pacs.009": (
        "GrpHdr/MsgId",
        "GrpHdr/CreDtTm",
        "GrpHdr/NbOfTxs",
        "CdtTrfTxInf",
        "CdtTrfTxInf//PmtId/EndToEndId",
        "CdtTrfTxInf//IntrBkSttlmAmt",
        "CdtTrfTxInf//Dbtr",
        "CdtTrfTxInf//Cdtr",
    ),
    "pacs.004": ("GrpHdr/MsgId", "GrpHdr/CreDtTm", "GrpHdr/NbOfTxs", "TxInf//RtrdIntrBkSttlmAmt"),
    "pacs.002": ("GrpHdr/MsgId", "GrpHdr/CreDtTm"),
    "camt.056": ("Assgnmt/Id", "Assgnmt/CreDtTm", "Undrlyg"),
    "camt.029": ("Assgnmt/Id", "Assgnmt/CreDtTm"),
    "pain.001": (
        "GrpHdr/MsgId",
        "GrpHdr/CreDtTm",
        "GrpHdr/NbOfTxs",
        "PmtInf",
        "PmtInf//PmtInfId",
        "PmtInf//Dbtr",
        "PmtInf//DbtrAcct",
        "PmtInf//DbtrAgt",
        "PmtInf//CdtTrfTxInf",
        "PmtInf//CdtTrfTxInf//PmtId/EndToEndId",
        "PmtInf//CdtTrfTxInf//Amt",
    ),
    "camt.052": (
        "GrpHdr/MsgId",
        "GrpHdr/CreDtTm",
        "Rpt",
        "Rpt//Id",
        "Rpt//Ntry//Amt",
        "Rpt//Ntry//CdtDbtInd",
    ),
    "camt.053": (
        "GrpHdr/MsgId",
        "GrpHdr/CreDtTm",
        "Stmt",
        "Stmt//Id",
        "Stmt//Acct",
        "Stmt//Bal",
        "Stmt//Ntry//Amt",
        "Stmt//Ntry//CdtDbtInd",
    ),
    "camt.054": (
        "GrpHdr/MsgId",
        "GrpHdr/CreDtTm",
        "Ntfctn",
        "Ntfctn//Id",
        "Ntfctn//Acct",
        "Ntfctn//Ntry//Amt",
        "Ntfctn//Ntry//CdtDbtInd",
    ),
}


def _missing(node: Node, specs: tuple[str, ...]) -> Iterator[str]:
    """XPaths of required elements absent under ``node``; repeated blocks are walked once per head."""
    nested: dict[str, list[str]] = {}
    for spec in specs:
        head, sep, rest = spec.partition("//")
        if sep:
            nested.setdefault(head, []).append(rest)
        elif node.find(head) is None:
            yield f"{node.path}/{head}"
    for head, rests in nested.items():
        for child in node.findall(head):
            yield from _missing(child, tuple(rests))


MAX_MANDATORY_FINDINGS = 25  # a hostile file can repeat a broken block thousands of times


def mandatory(located: Located) -> list[Finding]:
    """Missing required elements, at most :data:`MAX_MANDATORY_FINDINGS` plus one summary finding."""
    missing = list(_missing(located.message, MANDATORY.get(located.message_name, ())))
    findings = [
        Finding(
            code="MANDATORY_ELEMENT",
            severity="error",
            field=xpath,
            message=f"{located.message_name}: required element {xpath} is missing",
        )
        for xpath in missing[:MAX_MANDATORY_FINDINGS]
    ]
    if len(missing) > MAX_MANDATORY_FINDINGS:
        findings.append(
            Finding(
                code="MANDATORY_ELEMENT",
                severity="error",
                message=f"{len(missing) - MAX_MANDATORY_FINDINGS} more required elements are missing",
            )
        )
    return findings


def group_count(located: Located) -> list[Finding]:
    declared = located.message.find("GrpHdr/NbOfTxs")
    tx_tag = {"pacs.008": "CdtTrfTxInf", "pacs.009": "CdtTrfTxInf", "pacs.004": "TxInf"}.get(
        located.message_name
    )
    if declared is None or declared.text is None or tx_tag is None:
        return []
    actual = len(located.message.children(tx_tag))
    if declared.text.isdigit() and int(declared.text) == actual:
        return []
    return [
        Finding(
            code="NB_OF_TXS_MISMATCH",
            severity="warning",
            field=declared.path,
            message=f"NbOfTxs says {declared.text!r} but the message holds {actual} {tx_tag}",
        )
    ]


def iban_finding(iban: str, field: str) -> Finding | None:
    problem = _iban_problem(iban)
    if problem is None:
        return None
    return Finding(code=problem[0], severity="error", field=field, message=problem[1])


def bic_finding(bic: str, field: str) -> Finding | None:
    problem = _bic_problem(bic)
    if problem is None:
        return None
    return Finding(code="BIC_INVALID", severity="error", field=field, message=problem)


# Intended near-copy of tools/messages/swift/checks.py:_iban_problem: each format names its own finding codes.
# schwifty's checks are pure functions of the value and the same BICs and IBANs recur across
# messages: remember the verdicts (findings are built fresh each time, they are mutable models).
@lru_cache(maxsize=8192)
def _iban_problem(iban: str) -> tuple[str, str] | None:
    try:
        IBAN(iban)
    except InvalidChecksumDigits:
        return "IBAN_CHECKSUM", f"IBAN {iban} fails the ISO 13616 check digits"
    except SchwiftyException as exc:
        return "IBAN_INVALID", f"IBAN {iban}: {exc}"
    return None


@lru_cache(maxsize=8192)
def _bic_problem(bic: str) -> str | None:
    try:
        BIC(bic)
    except SchwiftyException as exc:
        return f"BIC {bic}: {exc}"
    return None


def _account(acct: Account | None, field: str) -> list[Finding]:
    if acct is None or not acct.iban:
        return []
    electronic = "".join(acct.iban.split()).upper()
    finding = iban_finding(electronic, f"{field}.iban")
    findings = [finding] if finding else []
    if electronic != acct.iban:
        # ISO 20022's IBAN2007Identifier allows neither spaces nor lower case: the message is invalid
        # as sent even when the IBAN itself is right (the repair writes its electronic form).
        findings.append(
            Finding(
                code="IBAN_FORMAT",
                severity="error",
                field=f"{field}.iban",
                message=f"IBAN {acct.iban!r} is in print format; ISO 20022 requires {electronic}",
            )
        )
    return findings


def _party(party: Party | None, field: str, *, identifier_is_bic: bool) -> list[Finding]:
    if party is None:
        return []
    findings = _account(party.account, f"{field}.account")
    ident = party.identifier
    checked = bool(ident) and (identifier_is_bic or bool(_BIC_SHAPE.match(ident or "")))
    if checked and ident and (finding := bic_finding(ident, f"{field}.identifier")):
        findings.append(finding)
    return findings


def _agent(agent: Agent | None, field: str) -> list[Finding]:
    if agent is None:
        return []
    findings = _account(agent.account, f"{field}.account")
    if agent.bic and (finding := bic_finding(agent.bic, f"{field}.bic")):
        findings.append(finding)
    return findings


def payment_findings(payment: Payment) -> list[Finding]:
    """Amount decimals, IBANs, BICs and UETR of a mapped payment."""
    findings: list[Finding] = []
    if payment.amount is not None and (
        f := amount_finding(payment.amount, payment.currency, "payment.amount")
    ):
        findings.append(f)
    if payment.instructed_amount is not None and (
        f := amount_finding(
            payment.instructed_amount, payment.instructed_currency, "payment.instructed_amount"
        )
    ):
        findings.append(f)
    for index, charge in enumerate(payment.charges):
        if f := amount_finding(charge.amount, charge.currency, f"payment.charges[{index}].amount"):
            findings.append(f)
    fi_parties = payment.message_type == "pacs.009"
    for role in ("debtor", "creditor", "ultimate_debtor", "ultimate_creditor"):
        findings += _party(getattr(payment, role), f"payment.{role}", identifier_is_bic=fi_parties)
    for role in (
        "debtor_agent",
        "creditor_agent",
        "intermediary_agent",
        "instructing_agent",
        "instructed_agent",
        "senders_correspondent",
        "receivers_correspondent",
    ):
        findings += _agent(getattr(payment, role), f"payment.{role}")
    for role in ("sender_bic", "receiver_bic"):
        if (bic := getattr(payment, role)) and (f := bic_finding(bic, f"payment.{role}")):
            findings.append(f)
    if payment.uetr and not _UETR.match(payment.uetr):
        findings.append(
            Finding(
                code="UETR_FORMAT",
                severity="error",
                field="payment.uetr",
                message=f"UETR {payment.uetr!r} is not a lower-case UUID version 4",
            )
        )
    return findings


def statement_findings(statement: Statement, name: str = "statement") -> list[Finding]:
    findings = _account(statement.account, f"{name}.account")
    for index, balance in enumerate(statement.balances):
        if f := amount_finding(abs(balance.amount), balance.currency, f"{name}.balances[{index}].amount"):
            findings.append(f)
    for index, entry in enumerate(statement.entries):
        field = f"{name}.entries[{index}]"
        if f := amount_finding(entry.amount, entry.currency, f"{field}.amount"):
            findings.append(f)
        if entry.counterparty is not None:
            findings += _party(entry.counterparty, f"{field}.counterparty", identifier_is_bic=False)
    if statement.servicer_bic and (f := bic_finding(statement.servicer_bic, f"{name}.servicer_bic")):
        findings.append(f)
    return findings
