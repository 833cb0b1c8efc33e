"""Payment messages -> canonical :class:`Payment` (pacs.008 meaning).

Contract: :func:`map_payment` takes the located message and returns a Payment for pacs.008, pacs.009,
pacs.004, pacs.002, camt.056, camt.029 and pain.001 (the first transaction when there are several; an
info finding says so). It never raises on bad content: malformed values become findings and are left
out. Field names recorded are the Payment's dotted paths (``payment.debtor.account.iban``).

Status-type messages describe an earlier payment: their ``Orgnl*`` references map to
``original_reference`` (the original message id), ``related_reference`` (original InstrId),
``end_to_end_id`` and ``uetr`` (shared by every message of the transaction chain).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.messages.iso20022.envelope import Located
from tools.messages.iso20022.parties import agent, party
from tools.messages.iso20022.record import Recorder
from tools.messages.iso20022.tree import Node
from tools.messages.model import Charge, Payment, RemittanceInformation

P = "payment"
CHARGE_BEARERS = frozenset({"DEBT", "CRED", "SHAR", "SLEV"})


def _set(kw: dict[str, Any], key: str, value: Any) -> None:
    """Keep the first non-empty value: later fallbacks never overwrite what the primary place held."""
    if not _empty(value) and _empty(kw.get(key)):
        kw[key] = value


def _empty(value: Any) -> bool:
    """``value in (None, [], "")`` without asking models to compare themselves with a list."""
    return value is None or (isinstance(value, list | str) and not value)


def _first(rec: Recorder, node: Node, many: str, what: str) -> Node | None:
    items = node.children(many)
    if len(items) > 1:
        rec.finding(
            "MULTIPLE_TRANSACTIONS",
            "info",
            f"{len(items)} {what} in the message; the payment holds the first",
        )
    return items[0] if items else None


def _reason(rec: Recorder, node: Node | None, block: str) -> str | None:
    if node is None:
        return None
    info = node.child(block)
    if info is None:
        return None
    return rec.text(f"{P}.reason_code", info, "Rsn/Cd") or rec.text(f"{P}.reason_code", info, "Rsn/Prtry")


def _amount(rec: Recorder, kw: dict[str, Any], node: Node | None, tag: str) -> None:
    if node is None or node.child(tag) is None or kw.get("amount") is not None:
        return
    value, currency = rec.amount(f"{P}.amount", f"{P}.currency", node, tag)
    _set(kw, "amount", value)
    _set(kw, "currency", currency)


def _instructed(rec: Recorder, kw: dict[str, Any], node: Node | None, tag: str) -> None:
    if node is None or node.child(tag) is None:
        return
    value, currency = rec.amount(f"{P}.instructed_amount", f"{P}.instructed_currency", node, tag)
    _set(kw, "instructed_amount", value)
    _set(kw, "instructed_currency", currency)


def _charge_bearer(rec: Recorder, kw: dict[str, Any], node: Node | None) -> None:
    target = node.child("ChrgBr") if node is not None else None
    if target is None or target.text is None or kw.get("charge_bearer"):
        return
    code = target.text.upper()
    if code not in CHARGE_BEARERS:
        rec.finding(
            "FIELD_FORMAT",
            "error",
            f"charge bearer {target.text!r} is not DEBT, CRED, SHAR or SLEV",
            f"{P}.charge_bearer",
        )
        return
    rec.field(f"{P}.charge_bearer", code, target.path)
    kw["charge_bearer"] = code


def _charges(rec: Recorder, tx: Node) -> list[Charge]:
    charges: list[Charge] = []
    for index, info in enumerate(tx.children("ChrgsInf")):
        value, currency = rec.amount(
            f"{P}.charges[{index}].amount", f"{P}.charges[{index}].currency", info, "Amt"
        )
        if value is not None and currency:
            charges.append(Charge(amount=value, currency=currency))
    return charges


def remittance(rec: Recorder, name: str, node: Node | None) -> RemittanceInformation | None:
    """``RmtInf``: Ustrd lines; referred document numbers and creditor references as references."""
    if node is None:
        return None
    unstructured = rec.texts(f"{name}.unstructured", node, "Ustrd")
    references: list[str] = []
    for strd in node.children("Strd"):
        for path in ("RfrdDocInf/Nb", "CdtrRefInf/Ref"):
            for target in strd.findall(path):
                if target.text:
                    rec.field(f"{name}.references[{len(references)}]", target.text, target.path)
                    references.append(target.text)
    if not unstructured and not references:
        return None
    return RemittanceInformation(unstructured=unstructured, references=references)


def _chain(rec: Recorder, kw: dict[str, Any], node: Node | None) -> None:
    """Parties and agents of a transaction (or of a return chain / original transaction reference)."""
    if node is None:
        return
    _set(kw, "ultimate_debtor", party(rec, f"{P}.ultimate_debtor", node.child("UltmtDbtr")))
    _set(kw, "debtor", party(rec, f"{P}.debtor", node.child("Dbtr"), node.child("DbtrAcct")))
    _set(
        kw, "debtor_agent", agent(rec, f"{P}.debtor_agent", node.child("DbtrAgt"), node.child("DbtrAgtAcct"))
    )
    _set(
        kw,
        "intermediary_agent",
        agent(rec, f"{P}.intermediary_agent", node.child("IntrmyAgt1"), node.child("IntrmyAgt1Acct")),
    )
    _set(
        kw,
        "creditor_agent",
        agent(rec, f"{P}.creditor_agent", node.child("CdtrAgt"), node.child("CdtrAgtAcct")),
    )
    _set(kw, "creditor", party(rec, f"{P}.creditor", node.child("Cdtr"), node.child("CdtrAcct")))
    _set(kw, "ultimate_creditor", party(rec, f"{P}.ultimate_creditor", node.child("UltmtCdtr")))


def _instructing(rec: Recorder, kw: dict[str, Any], *nodes: Node | None) -> None:
    for node in nodes:
        if node is None:
            continue
        _set(kw, "instructing_agent", agent(rec, f"{P}.instructing_agent", node.child("InstgAgt")))
        _set(kw, "instructed_agent", agent(rec, f"{P}.instructed_agent", node.child("InstdAgt")))


def _details(rec: Recorder, kw: dict[str, Any], tx: Node) -> None:
    """Instructions, purpose, regulatory reporting and remittance of a credit transfer transaction."""
    codes: list[str] = []
    info: list[str] = []
    for instr in tx.children("InstrForCdtrAgt"):
        if code := rec.text(f"{P}.instruction_codes[{len(codes)}]", instr, "Cd"):
            codes.append(code)
        if text := rec.text(f"{P}.sender_to_receiver_information[{len(info)}]", instr, "InstrInf"):
            info.append(text)
    for instr in tx.children("InstrForNxtAgt"):
        if text := rec.text(f"{P}.sender_to_receiver_information[{len(info)}]", instr, "InstrInf"):
            info.append(text)
    _set(kw, "instruction_codes", codes)
    _set(kw, "sender_to_receiver_information", info)
    _set(kw, "purpose", rec.text(f"{P}.purpose", tx, "Purp/Cd") or rec.text(f"{P}.purpose", tx, "Purp/Prtry"))
    reporting: list[str] = []
    for details in tx.findall("RgltryRptg/Dtls"):
        parts = [d.text for d in (details.child("Cd"), *details.children("Inf")) if d is not None and d.text]
        if parts:
            line = "/".join(parts)
            rec.field(f"{P}.regulatory_reporting[{len(reporting)}]", line, details.path)
            reporting.append(line)
    _set(kw, "regulatory_reporting", reporting)
    _set(kw, "remittance_information", remittance(rec, f"{P}.remittance_information", tx.child("RmtInf")))


def _payment_ids(rec: Recorder, kw: dict[str, Any], tx: Node) -> None:
    pmt_id = tx.child("PmtId")
    _set(kw, "instruction_id", rec.text(f"{P}.instruction_id", pmt_id, "InstrId"))
    _set(kw, "end_to_end_id", rec.text(f"{P}.end_to_end_id", pmt_id, "EndToEndId"))
    _set(kw, "uetr", rec.text(f"{P}.uetr", pmt_id, "UETR"))


def _credit_transfer(rec: Recorder, msg: Node, kw: dict[str, Any]) -> None:
    """pacs.008 and pacs.009 (whose debtor and creditor are institutions)."""
    grp = msg.child("GrpHdr")
    _set(kw, "reference", rec.text(f"{P}.reference", grp, "MsgId"))
    tx = _first(rec, msg, "CdtTrfTxInf", "transactions")
    if tx is None:
        return
    _payment_ids(rec, kw, tx)
    _set(kw, "reference", kw.get("instruction_id"))
    _amount(rec, kw, tx, "IntrBkSttlmAmt")
    _set(kw, "value_date", rec.date(f"{P}.value_date", tx, "IntrBkSttlmDt"))
    _set(kw, "value_date", rec.date(f"{P}.value_date", grp, "IntrBkSttlmDt"))
    _instructed(rec, kw, tx, "InstdAmt")
    _set(kw, "exchange_rate", rec.rate(f"{P}.exchange_rate", tx, "XchgRate"))
    _charge_bearer(rec, kw, tx)
    _set(kw, "charges", _charges(rec, tx))
    _instructing(rec, kw, tx, grp)
    settlement = grp.child("SttlmInf") if grp is not None else None
    if settlement is not None:
        _set(
            kw,
            "senders_correspondent",
            agent(rec, f"{P}.senders_correspondent", settlement.child("InstgRmbrsmntAgt")),
        )
        _set(
            kw,
            "receivers_correspondent",
            agent(rec, f"{P}.receivers_correspondent", settlement.child("InstdRmbrsmntAgt")),
        )
    _chain(rec, kw, tx)
    _details(rec, kw, tx)


def _original_refs(rec: Recorder, kw: dict[str, Any], tx: Node, fallback: Node | None = None) -> None:
    for node in (tx, fallback):
        if node is None:
            continue
        _set(kw, "original_reference", rec.text(f"{P}.original_reference", node, "OrgnlGrpInf/OrgnlMsgId"))
        _set(kw, "original_reference", rec.text(f"{P}.original_reference", node, "OrgnlMsgId"))
    _set(kw, "related_reference", rec.text(f"{P}.related_reference", tx, "OrgnlInstrId"))
    _set(kw, "end_to_end_id", rec.text(f"{P}.end_to_end_id", tx, "OrgnlEndToEndId"))
    _set(kw, "uetr", rec.text(f"{P}.uetr", tx, "OrgnlUETR"))


def _original_tx(rec: Recorder, kw: dict[str, Any], tx: Node) -> None:
    """``OrgnlTxRef``: the original payment's amount, date, parties and remittance."""
    ref = tx.child("OrgnlTxRef")
    if ref is None:
        return
    _amount(rec, kw, ref, "IntrBkSttlmAmt")
    _set(kw, "value_date", rec.date(f"{P}.value_date", ref, "IntrBkSttlmDt"))
    _instructed(rec, kw, ref, "Amt/InstdAmt")
    _charge_bearer(rec, kw, ref)
    _chain(rec, kw, ref)
    _set(kw, "remittance_information", remittance(rec, f"{P}.remittance_information", ref.child("RmtInf")))
    _set(kw, "purpose", rec.text(f"{P}.purpose", ref, "Purp/Cd"))


def _return(rec: Recorder, msg: Node, kw: dict[str, Any]) -> None:
    """pacs.004: parties from the return chain (the return's own direction), else the original's."""
    grp = msg.child("GrpHdr")
    _set(kw, "reference", rec.text(f"{P}.reference", grp, "MsgId"))
    kw["status"] = "returned"
    tx = _first(rec, msg, "TxInf", "returned transactions")
    if tx is None:
        return
    _set(kw, "instruction_id", rec.text(f"{P}.instruction_id", tx, "RtrId"))
    _original_refs(rec, kw, tx, msg.child("OrgnlGrpInf"))
    _amount(rec, kw, tx, "RtrdIntrBkSttlmAmt")
    _set(kw, "value_date", rec.date(f"{P}.value_date", tx, "IntrBkSttlmDt"))
    _instructed(rec, kw, tx, "RtrdInstdAmt")
    _set(kw, "exchange_rate", rec.rate(f"{P}.exchange_rate", tx, "XchgRate"))
    _charge_bearer(rec, kw, tx)
    _set(kw, "charges", _charges(rec, tx))
    _set(kw, "reason_code", _reason(rec, tx, "RtrRsnInf"))
    _set(kw, "narrative", rec.texts(f"{P}.narrative", tx, "RtrRsnInf/AddtlInf"))
    _instructing(rec, kw, tx, grp)
    _chain(rec, kw, tx.child("RtrChain"))
    _original_tx(rec, kw, tx)


def _status_report(rec: Recorder, msg: Node, kw: dict[str, Any]) -> None:
    """pacs.002: transaction status (or group status) and its reason."""
    grp = msg.child("GrpHdr")
    _set(kw, "reference", rec.text(f"{P}.reference", grp, "MsgId"))
    group = msg.child("OrgnlGrpInfAndSts")
    tx = _first(rec, msg, "TxInfAndSts", "transaction statuses")
    if tx is not None:
        _set(kw, "instruction_id", rec.text(f"{P}.instruction_id", tx, "StsId"))
        _original_refs(rec, kw, tx, group)
        _set(kw, "status", rec.text(f"{P}.status", tx, "TxSts"))
        _set(kw, "reason_code", _reason(rec, tx, "StsRsnInf"))
        _set(kw, "narrative", rec.texts(f"{P}.narrative", tx, "StsRsnInf/AddtlInf"))
        _instructing(rec, kw, tx, grp)
        _original_tx(rec, kw, tx)
    if group is not None:
        _set(kw, "original_reference", rec.text(f"{P}.original_reference", group, "OrgnlMsgId"))
        _set(kw, "status", rec.text(f"{P}.status", group, "GrpSts"))
        _set(kw, "reason_code", _reason(rec, group, "StsRsnInf"))


def _case_agents(rec: Recorder, msg: Node, kw: dict[str, Any]) -> None:
    assignment = msg.child("Assgnmt")
    _set(kw, "reference", rec.text(f"{P}.reference", assignment, "Id"))
    if assignment is not None:
        _set(kw, "instructing_agent", agent(rec, f"{P}.instructing_agent", assignment.find("Assgnr/Agt")))
        _set(kw, "instructed_agent", agent(rec, f"{P}.instructed_agent", assignment.find("Assgne/Agt")))


def _cancellation_request(rec: Recorder, msg: Node, kw: dict[str, Any]) -> None:
    """camt.056: the payment to cancel and the cancellation reason."""
    _case_agents(rec, msg, kw)
    underlying = _first(rec, msg, "Undrlyg", "underlying groups")
    if underlying is None:
        return
    tx = _first(rec, underlying, "TxInf", "transactions to cancel")
    if tx is None:
        return
    _set(kw, "instruction_id", rec.text(f"{P}.instruction_id", tx, "CxlId"))
    _original_refs(rec, kw, tx, underlying.child("OrgnlGrpInfAndCxl"))
    _amount(rec, kw, tx, "OrgnlIntrBkSttlmAmt")
    _set(kw, "value_date", rec.date(f"{P}.value_date", tx, "OrgnlIntrBkSttlmDt"))
    _set(kw, "reason_code", _reason(rec, tx, "CxlRsnInf"))
    _set(kw, "narrative", rec.texts(f"{P}.narrative", tx, "CxlRsnInf/AddtlInf"))
    _original_tx(rec, kw, tx)


def _investigation_resolution(rec: Recorder, msg: Node, kw: dict[str, Any]) -> None:
    """camt.029: investigation status (Sts/Conf, else the transaction's cancellation status)."""
    _case_agents(rec, msg, kw)
    _set(kw, "status", rec.text(f"{P}.status", msg, "Sts/Conf"))
    details = _first(rec, msg, "CxlDtls", "cancellation details")
    tx = _first(rec, details, "TxInfAndSts", "transactions") if details is not None else None
    if tx is None:
        return
    _set(kw, "instruction_id", rec.text(f"{P}.instruction_id", tx, "CxlStsId"))
    _original_refs(rec, kw, tx, details.child("OrgnlGrpInfAndSts") if details is not None else None)
    _set(kw, "status", rec.text(f"{P}.status", tx, "TxCxlSts"))
    _set(kw, "reason_code", _reason(rec, tx, "CxlStsRsnInf"))
    _set(kw, "narrative", rec.texts(f"{P}.narrative", tx, "CxlStsRsnInf/AddtlInf"))
    _amount(rec, kw, tx, "RsltnRltdInf/IntrBkSttlmAmt")
    _original_tx(rec, kw, tx)


# Intended same shape as _credit_transfer: each message kind reads its own paths.
def _initiation(rec: Recorder, msg: Node, kw: dict[str, Any]) -> None:
    """pain.001: the first transaction of the first payment information block."""
    grp = msg.child("GrpHdr")
    _set(kw, "reference", rec.text(f"{P}.reference", grp, "MsgId"))
    info = _first(rec, msg, "PmtInf", "payment information blocks")
    if info is None:
        return
    _set(kw, "value_date", rec.date(f"{P}.value_date", info, "ReqdExctnDt"))
    tx = _first(rec, info, "CdtTrfTxInf", "transactions")
    if tx is None:
        return
    _payment_ids(rec, kw, tx)
    _amount(rec, kw, tx, "Amt/InstdAmt")
    _instructed(rec, kw, tx, "Amt/InstdAmt")
    # an equivalent amount is expressed in the debtor's currency and converted by the bank
    _amount(rec, kw, tx.find("Amt/EqvtAmt"), "Amt")
    _set(kw, "exchange_rate", rec.rate(f"{P}.exchange_rate", tx, "XchgRateInf/XchgRate"))
    _charge_bearer(rec, kw, tx)
    _charge_bearer(rec, kw, info)
    _set(kw, "ultimate_debtor", party(rec, f"{P}.ultimate_debtor", tx.child("UltmtDbtr")))
    _chain(rec, kw, info)  # debtor side lives on the payment information block
    _chain(rec, kw, tx)
    _details(rec, kw, tx)


MAPPERS: dict[str, Callable[[Recorder, Node, dict[str, Any]], None]] = {
    "pacs.008": _credit_transfer,
    "pacs.009": _credit_transfer,
    "pacs.004": _return,
    "pacs.002": _status_report,
    "camt.056": _cancellation_request,
    "camt.029": _investigation_resolution,
    "pain.001": _initiation,
}


def map_payment(rec: Recorder, located: Located) -> Payment:
    """See the module contract."""
    kw: dict[str, Any] = {"message_type": located.message_name}
    rec.field(f"{P}.message_type", located.message_name, located.message.path)
    header = located.app_hdr
    if header is not None:
        _set(kw, "sender_bic", rec.text(f"{P}.sender_bic", header, "Fr/FIId/FinInstnId/BICFI"))
        _set(kw, "receiver_bic", rec.text(f"{P}.receiver_bic", header, "To/FIId/FinInstnId/BICFI"))
    MAPPERS[located.message_name](rec, located.message, kw)
    return Payment(**kw)
