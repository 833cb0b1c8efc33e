"""CBPR+ usage rules (a subset) as findings.

Contract: :func:`check_cbpr` returns one :class:`Finding` per breach of a rule in :data:`RULES` for the
located message; it never raises. Rule numbers differ between the SR2025 and SR2026 usage guidelines,
so each rule carries both; the finding code uses the SR2025 number when the rule exists there
(``CBPR_PACS008_R41``), else the SR2026 one, and the message cites both. A rule in both rulebooks is an
``error``; a rule in only one is a ``warning``, because a message does not say which rulebook it
follows (SR2026 added the camt.054 booked-entry-date and pain.001 PmtInfId rules).

Rules covered: commodity currencies (XAU, XAG, XPD, XPT) in settlement amounts; the header's
MsgDefIdr must equal the Document's message definition; instruction ids must not start or end with
``/`` nor contain ``//``; booked camt.054 entries need a booking or value date; pain.001 PmtInfId
must equal the group header MsgId.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tools.messages.iso20022.envelope import Located
from tools.messages.model import Finding, Severity

COMMODITIES = frozenset({"XAU", "XAG", "XPD", "XPT"})
_BAD_SLASH = re.compile(r"^/|/$|//")

Breach = tuple[str, str]  # (xpath, detail)
Check = Callable[[Located], Iterator[Breach]]


@dataclass(frozen=True)
class CbprRule:
    message: str  # "pacs.008"
    numbers: dict[str, str]  # rulebook year -> rule number, e.g. {"2025": "R41", "2026": "R31"}
    title: str
    check: Check

    @property
    def code(self) -> str:
        number = self.numbers.get("2025") or self.numbers["2026"]
        return f"CBPR_{self.message.replace('.', '').upper()}_{number}"

    @property
    def severity(self) -> Severity:
        return "error" if len(self.numbers) > 1 else "warning"

    def cites(self) -> str:
        return "; ".join(f"{number} in SR{year}" for year, number in sorted(self.numbers.items()))


def _commodity(path: str) -> Check:
    def check(located: Located) -> Iterator[Breach]:
        for node in located.message.findall(path):
            currency = (node.attr("Ccy") or "").upper()
            if currency in COMMODITIES:
                yield node.path, f"commodity currency {currency} is not allowed in {node.name}"

    return check


def _no_bad_slash(path: str) -> Check:
    def check(located: Located) -> Iterator[Breach]:
        for node in located.message.findall(path):
            if node.text and _BAD_SLASH.search(node.text):
                yield node.path, f"{node.text!r} starts or ends with '/' or contains '//'"

    return check


def _msg_def_idr(located: Located) -> Iterator[Breach]:
    header = located.app_hdr
    target = header.child("MsgDefIdr") if header is not None else None
    if target is None or not target.text or located.definition is None:
        return
    if target.text != located.definition:
        yield (
            target.path,
            f"AppHdr MsgDefIdr {target.text!r} does not match the Document's {located.definition!r}",
        )


def _booked_entry_dated(block: str) -> Check:
    def check(located: Located) -> Iterator[Breach]:
        for entry in located.message.findall(f"{block}/Ntry"):
            status = entry.find("Sts/Cd") or entry.child("Sts")
            if status is None or status.text != "BOOK":
                continue
            if entry.child("BookgDt") is None and entry.child("ValDt") is None:
                yield entry.path, "booked entry (Sts BOOK) has neither BookgDt nor ValDt"

    return check


def _pmt_inf_id_is_msg_id(located: Located) -> Iterator[Breach]:
    msg_id = located.message.find("GrpHdr/MsgId")
    if msg_id is None or not msg_id.text:
        return
    for pmt_inf_id in located.message.findall("PmtInf/PmtInfId"):
        if pmt_inf_id.text != msg_id.text:
            yield (
                pmt_inf_id.path,
                (f"PmtInfId {pmt_inf_id.text!r} differs from the group header MsgId {msg_id.text!r}"),
            )


_COMMODITY = "The codes XAU, XAG, XPD and XPT are only used for commodities and are not allowed"
_MSGDEF = "The header's Message Definition Identifier must be the Document's message definition"
_SLASH = "Must not start or end with '/' nor contain '//'"


def _rule(message: str, y2025: str | None, y2026: str | None, title: str, check: Check) -> CbprRule:
    numbers = {year: n for year, n in (("2025", y2025), ("2026", y2026)) if n}
    return CbprRule(message=message, numbers=numbers, title=title, check=check)


RULES: tuple[CbprRule, ...] = (
    _rule("pacs.008", "R41", "R31", _COMMODITY, _commodity("CdtTrfTxInf/IntrBkSttlmAmt")),
    _rule("pacs.009", "R20", "R16", _COMMODITY, _commodity("CdtTrfTxInf/IntrBkSttlmAmt")),
    _rule("pacs.004", "R23", "R20", _COMMODITY, _commodity("TxInf/OrgnlIntrBkSttlmAmt")),
    _rule("pacs.004", "R24", "R23", _COMMODITY, _commodity("TxInf/RtrdIntrBkSttlmAmt")),
    _rule("pacs.004", "R111", "R65", _COMMODITY, _commodity("TxInf/OrgnlTxRef/IntrBkSttlmAmt")),
    _rule("pacs.008", "R6", "R8", _MSGDEF, _msg_def_idr),
    _rule("pacs.009", "R6", "R8", _MSGDEF, _msg_def_idr),
    _rule("pacs.004", "R5", "R7", _MSGDEF, _msg_def_idr),
    _rule("pacs.002", "R5", "R7", _MSGDEF, _msg_def_idr),
    _rule("camt.052", "R4", "R5", _MSGDEF, _msg_def_idr),
    _rule("camt.054", "R4", "R5", _MSGDEF, _msg_def_idr),
    _rule("pain.001", "R3", "R4", _MSGDEF, _msg_def_idr),
    _rule("pacs.008", "R38", "R28", _SLASH, _no_bad_slash("CdtTrfTxInf/PmtId/InstrId")),
    _rule("pacs.009", "R13", "R12", _SLASH, _no_bad_slash("CdtTrfTxInf/PmtId/InstrId")),
    _rule("pacs.004", "R18", "R14", _SLASH, _no_bad_slash("TxInf/OrgnlInstrId")),
    _rule("pacs.002", "R15", "R14", _SLASH, _no_bad_slash("TxInfAndSts/OrgnlInstrId")),
    _rule("camt.052", "R17", "R13", _SLASH, _no_bad_slash("Rpt/Ntry/NtryDtls/TxDtls/Refs/InstrId")),
    _rule("camt.054", "R20", "R13", _SLASH, _no_bad_slash("Ntfctn/Ntry/NtryDtls/TxDtls/Refs/InstrId")),
    _rule(
        "camt.054",
        None,
        "R10",
        "Booking date or value date must be present when the status is BOOK",
        _booked_entry_dated("Ntfctn"),
    ),
    _rule(
        "pain.001",
        None,
        "R8",
        "The Payment Information Identification must equal the Message Identification",
        _pmt_inf_id_is_msg_id,
    ),
)


def is_cbpr(located: Located) -> bool:
    """CBPR+ traffic names its business service ``swift.cbprplus.NN`` in the header."""
    header = located.app_hdr
    service = header.child("BizSvc") if header is not None else None
    return service is not None and "cbpr" in (service.text or "").lower()


def rules_for(message: str) -> list[CbprRule]:
    return [rule for rule in RULES if rule.message == message]


def check_cbpr(located: Located) -> list[Finding]:
    """See the module contract."""
    findings: list[Finding] = []
    for rule in rules_for(located.message_name):
        for xpath, detail in rule.check(located):
            findings.append(
                Finding(
                    code=rule.code,
                    severity=rule.severity,
                    field=xpath,
                    message=f"CBPR+ {rule.message} usage rule ({rule.cites()}): {rule.title}; {detail}",
                )
            )
    return findings
