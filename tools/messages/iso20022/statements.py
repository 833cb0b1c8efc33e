"""camt.052 (report), camt.053 (statement), camt.054 (notification) -> canonical :class:`Statement`.

Contract: :func:`statement_blocks` lists the ``Rpt``/``Stmt``/``Ntfctn`` blocks of the message (possibly
none; the validator reports that) and :func:`map_statement` maps one block to a Statement whose fields are
recorded under ``statement.``. Balances are signed (negative when ``DBIT``); entry
amounts stay positive with the direction in ``credit_debit``. Never raises on bad content: malformed
values become findings and the entry or balance that needs them is left out.
"""

from __future__ import annotations

from typing import Any

from tools.messages.iso20022.envelope import Located
from tools.messages.iso20022.parties import account, party
from tools.messages.iso20022.record import Recorder
from tools.messages.iso20022.tree import Node
from tools.messages.model import Balance, Party, Statement, StatementEntry

BLOCKS = {"camt.052": "Rpt", "camt.053": "Stmt", "camt.054": "Ntfctn"}
INFO_TAGS = {"camt.052": "AddtlRptInf", "camt.053": "AddtlStmtInf", "camt.054": "AddtlNtfctnInf"}

# ISO 20022 ExternalBalanceType1Code -> canonical balance kind
BALANCE_KINDS = {
    "OPBD": "opening",
    "CLBD": "closing",
    "OPAV": "opening_available",
    "CLAV": "closing_available",
    "FWAV": "forward_available",
    "ITBD": "interim",
    "ITAV": "interim_available",
    "PRCD": "previous_closing",
    "XPCD": "expected",
    "INFO": "information",
}


def _credit_debit(rec: Recorder, name: str, node: Node, what: str) -> str | None:
    target = node.child("CdtDbtInd")
    if target is None or target.text not in ("CRDT", "DBIT"):
        found = target.text if target is not None else None
        rec.finding(
            "FIELD_FORMAT" if found else "MANDATORY_ELEMENT",
            "error",
            f"{what} at {node.path} has credit/debit indicator {found!r}; expected CRDT or DBIT",
            name,
        )
        return None
    rec.field(name, target.text, target.path)
    return target.text


def _balance(rec: Recorder, name: str, bal: Node) -> Balance | None:
    tp = bal.child("Tp")
    code_node = None
    if tp is not None:
        code_node = (
            tp.find("CdOrPrtry/Cd") or tp.find("CdOrPrtry/Prtry") or tp.child("Cd") or tp.child("Prtry")
        )
    code = code_node.text if code_node is not None and code_node.text else None
    if code is None:
        rec.finding("MANDATORY_ELEMENT", "error", f"balance at {bal.path} has no type code", f"{name}.kind")
        return None
    kind = BALANCE_KINDS.get(code.upper(), code.lower())
    rec.field(f"{name}.kind", kind, code_node.path if code_node is not None else bal.path)
    value, currency = rec.amount(f"{name}.amount", f"{name}.currency", bal, "Amt")
    direction = _credit_debit(rec, f"{name}.credit_debit", bal, "balance")
    if value is None or direction is None:
        return None
    return Balance(
        kind=kind,
        amount=-value if direction == "DBIT" else value,
        currency=currency,
        date=rec.date(f"{name}.date", bal, "Dt"),
    )


def _counterparty(rec: Recorder, name: str, details: Node, direction: str) -> Party | None:
    """The other side of the entry: the debtor of a credit, the creditor of a debit."""
    parties = details.child("RltdPties")
    if parties is None:
        return None
    role = "Dbtr" if direction == "CRDT" else "Cdtr"
    return party(rec, name, parties.child(role), parties.child(f"{role}Acct"))


def _bank_code(entry: Node) -> str | None:
    domain = entry.find("BkTxCd/Domn")
    if domain is not None:
        parts = [domain.child("Cd"), domain.find("Fmly/Cd"), domain.find("Fmly/SubFmlyCd")]
        code = "/".join(p.text for p in parts if p is not None and p.text)
        if code:
            return code
    proprietary = entry.find("BkTxCd/Prtry/Cd")
    return proprietary.text if proprietary is not None else None


def _entry(rec: Recorder, name: str, entry: Node) -> StatementEntry | None:
    value, currency = rec.amount(f"{name}.amount", f"{name}.currency", entry, "Amt")
    direction = _credit_debit(rec, f"{name}.credit_debit", entry, "entry")
    if value is None or direction is None:
        return None
    reversal = rec.text(f"{name}.reversal", entry, "RvslInd")
    status = rec.text(f"{name}.status", entry, "Sts/Cd") or rec.text(f"{name}.status", entry, "Sts")
    kw: dict[str, Any] = {
        "amount": value,
        "currency": currency,
        "credit_debit": direction,
        "reversal": (reversal or "").lower() in ("true", "1"),
        "status": status,
        "booking_date": rec.date(f"{name}.booking_date", entry, "BookgDt"),
        "value_date": rec.date(f"{name}.value_date", entry, "ValDt"),
        "bank_reference": rec.text(f"{name}.bank_reference", entry, "AcctSvcrRef"),
        "transaction_code": _bank_code(entry),
        "supplementary_details": rec.text(f"{name}.supplementary_details", entry, "AddtlNtryInf"),
    }
    information: list[str] = []
    details = entry.find("NtryDtls/TxDtls")
    if details is not None:
        refs = details.child("Refs")
        kw["end_to_end_id"] = rec.text(f"{name}.end_to_end_id", refs, "EndToEndId")
        kw["uetr"] = rec.text(f"{name}.uetr", refs, "UETR")
        kw["customer_reference"] = rec.text(f"{name}.customer_reference", refs, "InstrId")
        if kw["bank_reference"] is None:
            kw["bank_reference"] = rec.text(f"{name}.bank_reference", refs, "AcctSvcrRef")
        information += rec.texts(f"{name}.information", details, "RmtInf/Ustrd")
        information += [
            t for t in (rec.text(f"{name}.information[{len(information)}]", details, "AddtlTxInf"),) if t
        ]
        kw["counterparty"] = _counterparty(rec, f"{name}.counterparty", details, direction)
    if kw["supplementary_details"]:
        information.append(kw["supplementary_details"])
    kw["information"] = information
    return StatementEntry(**{k: v for k, v in kw.items() if v is not None})


def map_statement(rec: Recorder, located: Located, block: Node, grp: Node | None) -> Statement:
    """See the module contract; ``grp`` is the message's group header."""
    name = "statement"
    acct = block.child("Acct")
    servicer = acct.find("Svcr/FinInstnId") if acct is not None else None
    balances = [
        b for i, bal in enumerate(block.children("Bal")) if (b := _balance(rec, f"{name}.balances[{i}]", bal))
    ]
    entries = [
        e for i, ntry in enumerate(block.children("Ntry")) if (e := _entry(rec, f"{name}.entries[{i}]", ntry))
    ]
    sequence = rec.text(f"{name}.sequence_number", block, "ElctrncSeqNb") or rec.text(
        f"{name}.sequence_number", block, "LglSeqNb"
    )
    servicer_bic = None
    if servicer is not None:
        servicer_bic = rec.text(f"{name}.servicer_bic", servicer, "BICFI") or rec.text(
            f"{name}.servicer_bic", servicer, "BIC"
        )
    return Statement(
        message_type=located.message_name,
        statement_id=rec.text(f"{name}.statement_id", block, "Id"),
        reference=rec.text(f"{name}.reference", grp, "MsgId"),
        sequence_number=sequence,
        account=account(rec, f"{name}.account", acct),
        owner=party(rec, f"{name}.owner", acct.child("Ownr")) if acct is not None else None,
        servicer_bic=servicer_bic,
        created_at=rec.datetime(f"{name}.created_at", block, "CreDtTm")
        or rec.datetime(f"{name}.created_at", grp, "CreDtTm"),
        balances=balances,
        entries=entries,
        information=rec.texts(f"{name}.information", block, INFO_TAGS[located.message_name]),
    )


def statement_blocks(located: Located) -> list[Node]:
    """The report/statement/notification blocks of a camt.052/053/054 message, in document order."""
    return located.message.children(BLOCKS[located.message_name])
