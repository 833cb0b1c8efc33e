"""Find the business message inside whatever wraps it, and name it.

A message arrives as a bare ``Document``, as ``AppHdr`` + ``Document`` inside a SWIFT/Fedwire envelope
(``Envelope``, ``Request``, ``DataPDU``...), or as a bare message element. Contract: :func:`locate`
returns a :class:`Located` with the message element (the child of ``Document``), the ``AppHdr`` when
present and the message name (``"pacs.008"``), or raises :class:`~tools.errors.ParseError` when the tree
holds no ISO 20022 message. The name comes from the message element (``FIToFICstmrCdtTrf``) or, failing
that, from the namespace's message identifier; the version is never used to decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from tools.errors import ParseError
from tools.messages.iso20022.tree import Node, local_name, namespace

# Message element under Document -> message name. The first group is mapped to the canonical model.
MAPPED: dict[str, str] = {
    "FIToFICstmrCdtTrf": "pacs.008",
    "FICdtTrf": "pacs.009",
    "PmtRtr": "pacs.004",
    "FIToFIPmtStsRpt": "pacs.002",
    "BkToCstmrAcctRpt": "camt.052",
    "BkToCstmrStmt": "camt.053",
    "BkToCstmrDbtCdtNtfctn": "camt.054",
    "FIToFIPmtCxlReq": "camt.056",
    "RsltnOfInvstgtn": "camt.029",
    "CstmrCdtTrfInitn": "pain.001",
}
RECOGNISED: dict[str, str] = {
    "FIToFICstmrDrctDbt": "pacs.003",
    "FIDrctDbt": "pacs.010",
    "FIToFIPmtStsReq": "pacs.028",
    "CstmrPmtStsRpt": "pain.002",
    "CstmrDrctDbtInitn": "pain.008",
    "CdtrPmtActvtnReq": "pain.013",
    "CdtrPmtActvtnReqStsRpt": "pain.014",
    "CstmrPmtCxlReq": "camt.055",
    "UblToApply": "camt.026",
    "ClmNonRct": "camt.027",
    "AddtlPmtInf": "camt.028",
    "NtfctnToRcv": "camt.057",
    "AcctRptgReq": "camt.060",
    "ReqToModfyPmt": "camt.087",
    "SysEvtNtfctn": "admi.004",
    "RctAck": "admi.007",
    "SysEvtAck": "admi.011",
    "MsgRjct": "admi.002",
}
ALL_MESSAGES: dict[str, str] = {**MAPPED, **RECOGNISED}

_NS_ID = re.compile(r"(?:^|:)([a-z]{4})\.(\d{3})\.(\d{3})\.(\d{2})$")


def definition_id(ns: str) -> str | None:
    """``urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08`` -> ``pacs.008.001.08``."""
    match = _NS_ID.search(ns)
    return ".".join(match.groups()) if match else None


@dataclass(frozen=True)
class Located:
    message: Node  # the message element, e.g. FIToFICstmrCdtTrf, with its XPath
    message_name: str  # "pacs.008"
    definition: str | None  # "pacs.008.001.08" from the Document namespace, when it has one
    app_hdr: Node | None


def _first_named(root: Element, names: set[str], *, skip: str | None = None) -> Element | None:
    """First element (document order) whose local name is in ``names``; does not descend into ``skip``."""
    if local_name(root.tag) in names:
        return root
    # Most documents hold no such element at all (no AppHdr in a bare Document): the distinct tags,
    # gathered by the C iterator, say so without walking the tree in Python.
    if not any(local_name(tag) in names for tag in {el.tag for el in root.iter()}):
        return None
    stack = [root]
    while stack:
        el = stack.pop()
        name = local_name(el.tag)
        if name in names:
            return el
        if name == skip and el is not root:
            continue
        stack.extend(reversed(list(el)))
    return None


def locate(root: Element, source: str) -> Located:
    """See the module contract."""
    document = _first_named(root, {"Document"})
    if document is not None:
        message_el = next((child for child in document if local_name(child.tag)), None)
        if message_el is None:
            raise ParseError("ISO 20022 Document has no message element", source=source)
        message = Node(message_el, f"/Document/{local_name(message_el.tag)}")
        ns = namespace(document.tag) or namespace(message_el.tag)
    else:
        found = _first_named(root, set(ALL_MESSAGES), skip="AppHdr")
        if found is None:
            raise ParseError(
                f"not an ISO 20022 message: no Document element (root is <{local_name(root.tag)}>)",
                source=source,
            )
        message_el = found
        message = Node(message_el, f"/{local_name(message_el.tag)}")
        ns = namespace(message_el.tag)
    definition = definition_id(ns)
    element_name = local_name(message_el.tag)
    name = ALL_MESSAGES.get(element_name)
    if name is None and definition is not None:
        name = ".".join(definition.split(".")[:2])
    if name is None:
        raise ParseError(f"unknown ISO 20022 message <{element_name}> (namespace {ns!r})", source=source)
    header_el = _first_named(root, {"AppHdr"}, skip="Document")
    app_hdr = Node(header_el, "/AppHdr") if header_el is not None else None
    return Located(
        message=message,
        message_name=name,
        definition=definition,
        app_hdr=app_hdr,
    )
