"""Canonical :class:`Payment` -> pacs.008.001.08 XML.

Contract: :func:`write_pacs008` returns UTF-8 bytes of a pacs.008.001.08 ``Document`` (element order as
the schema requires) that :func:`~tools.messages.iso20022.parse_xml` maps back to the same payment
fields. When the payment names both ``sender_bic`` and ``receiver_bic`` (or ``with_header`` is True),
the Document travels with a business application header (head.001.001.02) inside a SWIFT ``Envelope``.
Address lines are written as ``AdrLine`` next to the structured town, post code and country. A value
holding characters XML 1.0 cannot carry (control characters, lone surrogates) raises
:class:`~tools.errors.ValidationError` naming the element.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement, tostring

from tools.errors import ValidationError
from tools.messages.model import Account, Agent, Party, Payment

PACS008_NS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
HEAD_NS = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02"
ENVELOPE_NS = "urn:swift:xsd:envelope"
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _amount(value: Decimal) -> str:
    return format(value, "f")  # never exponent notation, which the schema rejects


def _text(parent: Element, tag: str, value: str | None) -> Element | None:
    if value is None or value == "":
        return None
    if _NOT_XML.search(value):
        raise ValidationError(f"{tag} value {value!r} holds characters XML cannot carry", source="pacs.008")
    el = SubElement(parent, tag)
    el.text = value
    return el


def _address(
    parent: Element,
    lines: list[str],
    country: str | None,
    town: str | None = None,
    post_code: str | None = None,
) -> None:
    if not (lines or country or town or post_code):
        return
    adr = SubElement(parent, "PstlAdr")
    _text(adr, "PstCd", post_code)
    _text(adr, "TwnNm", town)
    _text(adr, "Ctry", country)
    for line in lines:
        _text(adr, "AdrLine", line)


def _account(parent: Element, tag: str, account: Account | None) -> None:
    if account is None or not (account.iban or account.other):
        return
    el = SubElement(parent, tag)
    ident = SubElement(el, "Id")
    if account.iban:
        _text(ident, "IBAN", account.iban)
    else:
        _text(SubElement(ident, "Othr"), "Id", account.other)
    _text(el, "Ccy", account.currency)
    _text(el, "Nm", account.name)


def _agent(parent: Element, tag: str, agent: Agent | None) -> None:
    if agent is None:
        return
    fin = SubElement(SubElement(parent, tag), "FinInstnId")
    _text(fin, "BICFI", agent.bic)
    if agent.clearing_id:
        _text(SubElement(fin, "ClrSysMmbId"), "MmbId", agent.clearing_id)
    _text(fin, "Nm", agent.name)
    _address(fin, agent.address_lines, agent.country)


def _party(parent: Element, tag: str, party: Party | None) -> None:
    if party is None:
        return
    el = SubElement(parent, tag)
    _text(el, "Nm", party.name)
    _address(el, party.address_lines, party.country, party.town, party.post_code)
    if party.identifier:
        org = SubElement(SubElement(el, "Id"), "OrgId")
        if _BIC.match(party.identifier):
            _text(org, "AnyBIC", party.identifier)
        else:
            _text(SubElement(org, "Othr"), "Id", party.identifier)


def _header(payment: Payment, msg_id: str, created: str) -> Element:
    hdr = Element("AppHdr", {"xmlns": HEAD_NS})
    for tag, bic in (("Fr", payment.sender_bic), ("To", payment.receiver_bic)):
        fin = SubElement(SubElement(SubElement(hdr, tag), "FIId"), "FinInstnId")
        _text(fin, "BICFI", bic or "NOTPROVIDED")
    _text(hdr, "BizMsgIdr", msg_id)
    _text(hdr, "MsgDefIdr", "pacs.008.001.08")
    _text(hdr, "CreDt", created)
    return hdr


def _transaction(doc: Element, p: Payment) -> None:
    tx = SubElement(doc, "CdtTrfTxInf")
    pmt_id = SubElement(tx, "PmtId")
    _text(pmt_id, "InstrId", p.instruction_id)
    _text(pmt_id, "EndToEndId", p.end_to_end_id or "NOTPROVIDED")
    _text(pmt_id, "UETR", p.uetr)
    if p.amount is not None:
        el = _text(tx, "IntrBkSttlmAmt", _amount(p.amount))
        if el is not None and p.currency:
            el.set("Ccy", p.currency)
    _text(tx, "IntrBkSttlmDt", p.value_date.isoformat() if p.value_date else None)
    if p.instructed_amount is not None:
        el = _text(tx, "InstdAmt", _amount(p.instructed_amount))
        if el is not None and p.instructed_currency:
            el.set("Ccy", p.instructed_currency)
    _text(tx, "XchgRate", _amount(p.exchange_rate) if p.exchange_rate is not None else None)
    _text(tx, "ChrgBr", p.charge_bearer)
    for charge in p.charges:
        info = SubElement(tx, "ChrgsInf")
        SubElement(info, "Amt", {"Ccy": charge.currency}).text = _amount(charge.amount)
        _agent(info, "Agt", p.instructing_agent or Agent(name="NOTPROVIDED"))
    _agent(tx, "InstgAgt", p.instructing_agent)
    _agent(tx, "InstdAgt", p.instructed_agent)
    if p.intermediary_agent is not None:
        _agent(tx, "IntrmyAgt1", p.intermediary_agent)
        _account(tx, "IntrmyAgt1Acct", p.intermediary_agent.account)
    _party(tx, "UltmtDbtr", p.ultimate_debtor)
    _party(tx, "Dbtr", p.debtor)
    _account(tx, "DbtrAcct", p.debtor.account if p.debtor else None)
    _agent(tx, "DbtrAgt", p.debtor_agent)
    _account(tx, "DbtrAgtAcct", p.debtor_agent.account if p.debtor_agent else None)
    _agent(tx, "CdtrAgt", p.creditor_agent)
    _account(tx, "CdtrAgtAcct", p.creditor_agent.account if p.creditor_agent else None)
    _party(tx, "Cdtr", p.creditor)
    _account(tx, "CdtrAcct", p.creditor.account if p.creditor else None)
    _party(tx, "UltmtCdtr", p.ultimate_creditor)
    for code in p.instruction_codes:
        _text(SubElement(tx, "InstrForCdtrAgt"), "Cd", code)
    for line in p.sender_to_receiver_information:
        _text(SubElement(tx, "InstrForNxtAgt"), "InstrInf", line)
    if p.purpose:
        _text(SubElement(tx, "Purp"), "Cd", p.purpose)
    for line in p.regulatory_reporting:
        code, _, text = line.partition("/")
        details = SubElement(SubElement(tx, "RgltryRptg"), "Dtls")
        _text(details, "Cd", code)
        _text(details, "Inf", text or None)
    remittance = p.remittance_information
    if remittance is not None and (remittance.unstructured or remittance.references):
        rmt = SubElement(tx, "RmtInf")
        for line in remittance.unstructured:
            _text(rmt, "Ustrd", line)
        for reference in remittance.references:
            _text(SubElement(SubElement(rmt, "Strd"), "RfrdDocInf"), "Nb", reference)


def write_pacs008(payment: Payment, *, with_header: bool | None = None) -> bytes:
    """See the module contract. ``with_header`` None: add the header when both BICs are known."""
    created = datetime.now(UTC).replace(microsecond=0)
    msg_id = payment.reference or payment.instruction_id or created.strftime("RD%Y%m%d%H%M%S")
    document = Element("Document", {"xmlns": PACS008_NS})
    transfer = SubElement(document, "FIToFICstmrCdtTrf")
    grp = SubElement(transfer, "GrpHdr")
    _text(grp, "MsgId", msg_id)
    _text(grp, "CreDtTm", created.isoformat())
    _text(grp, "NbOfTxs", "1")
    settlement = SubElement(grp, "SttlmInf")
    cover = payment.senders_correspondent is not None or payment.receivers_correspondent is not None
    _text(settlement, "SttlmMtd", "COVE" if cover else "INDA")
    _agent(settlement, "InstgRmbrsmntAgt", payment.senders_correspondent)
    _agent(settlement, "InstdRmbrsmntAgt", payment.receivers_correspondent)
    _transaction(transfer, payment)
    if with_header is None:
        with_header = bool(payment.sender_bic and payment.receiver_bic)
    if not with_header:
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(document, encoding="unicode").encode()
    envelope = Element("Envelope", {"xmlns": ENVELOPE_NS})
    envelope.append(_header(payment, msg_id, created.isoformat()))
    envelope.append(document)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(envelope, encoding="unicode").encode()
