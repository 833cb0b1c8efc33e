"""ISO 20022 XML -> canonical :class:`Extraction` (the package's entry point).

Contract: :func:`parse_xml` returns one Extraction for any ISO 20022 message, in any version, bare or
with a business application header and a SWIFT/Fedwire envelope. ``doc_type`` is
``iso20022.<message>`` (``iso20022.pacs.008``); payment messages fill ``payment``, camt.052/053/054 fill
``statement`` (the first block; :func:`parse_xml_all` returns one Extraction per block), other recognised
messages carry an info finding ``NO_PAYMENT_MAPPING``. It raises only :class:`~tools.errors.ParseError`
(not XML, not ISO 20022) or its subclass :class:`~tools.errors.UnsafeInputError` (DTD, entities, size);
problems in the content of a readable message are findings, never exceptions.
"""

from __future__ import annotations

from typing import Any

from tools.errors import ParseError
from tools.messages.iso20022.cbpr import check_cbpr, is_cbpr
from tools.messages.iso20022.checks import group_count, mandatory, payment_findings, statement_findings
from tools.messages.iso20022.envelope import Located, locate
from tools.messages.iso20022.payments import MAPPERS, map_payment
from tools.messages.iso20022.record import Recorder
from tools.messages.iso20022.safe import load_xml
from tools.messages.iso20022.statements import BLOCKS, map_statement, statement_blocks
from tools.messages.model import Extraction, Finding


def parse_xml(data: bytes, source: str) -> Extraction:
    """See the module contract."""
    return _parse(data, source, all_blocks=False)[0]


def parse_xml_all(data: bytes, source: str) -> list[Extraction]:
    """Like :func:`parse_xml`, with one Extraction per statement/report/notification block."""
    return _parse(data, source, all_blocks=True)


def _parse(data: bytes, source: str, *, all_blocks: bool) -> list[Extraction]:
    root = load_xml(data, source)
    located = locate(root, source)
    try:
        return _extract(located, source, all_blocks=all_blocks)
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        # A safety net for the "only ParseError" contract: content we failed to anticipate is
        # reported as unreadable rather than escaping as a raw traceback.
        raise ParseError(f"cannot map {located.message_name}: {exc}", source=source) from exc


def _common_findings(located: Located) -> list[Finding]:
    findings = mandatory(located) + group_count(located)
    if is_cbpr(located):
        findings += check_cbpr(located)
    return findings


def _statements(
    located: Located, source: str, common: list[Finding], *, all_blocks: bool
) -> list[Extraction]:
    doc_type = f"iso20022.{located.message_name}"
    blocks = statement_blocks(located)
    if not blocks:
        return [Extraction(source=source, doc_type=doc_type, findings=common)]
    if not all_blocks and len(blocks) > 1:
        common = [
            *common,
            Finding(
                code="MULTIPLE_STATEMENTS",
                severity="info",
                message=f"{len(blocks)} statements in the message; this extraction has the first",
            ),
        ]
    group_header = located.message.child("GrpHdr")  # once: a message may hold thousands of blocks
    extractions = []
    for block in blocks if all_blocks else blocks[:1]:
        rec = Recorder()
        statement = map_statement(rec, located, block, group_header)
        findings = [*common, *rec.findings, *statement_findings(statement)]
        extractions.append(
            _extraction(
                source=source, doc_type=doc_type, statement=statement, fields=rec.fields, findings=findings
            )
        )
    return extractions


def _extract(located: Located, source: str, *, all_blocks: bool) -> list[Extraction]:
    doc_type = f"iso20022.{located.message_name}"
    common = _common_findings(located)
    if located.message_name in MAPPERS:
        rec = Recorder()
        payment = map_payment(rec, located)
        findings = common + rec.findings + payment_findings(payment)
        return [
            _extraction(
                source=source, doc_type=doc_type, payment=payment, fields=rec.fields, findings=findings
            )
        ]
    if located.message_name in BLOCKS:
        return _statements(located, source, common, all_blocks=all_blocks)
    rec = Recorder()
    rec.text("message.reference", located.message, "GrpHdr/MsgId")
    info = Finding(
        code="NO_PAYMENT_MAPPING",
        severity="info",
        message=f"{located.message_name} ({located.message.name}) is recognised but has no payment mapping",
    )
    return [_extraction(source=source, doc_type=doc_type, fields=rec.fields, findings=[*common, info])]


def _extraction(**parts: Any) -> Extraction:
    """The Extraction of ``parts``; the recorder's field dicts are validated here, in one pass."""
    return Extraction.model_validate(parts)
