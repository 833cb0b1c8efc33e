"""One entry point for every input: detect the type from the bytes, route to the right reader.

Contract: ``extract_bytes(data, source)`` returns one or more canonical :class:`Extraction` objects
(several when a file holds several messages) or raises a :class:`RepairDeskError` subclass naming
``source`` and the reason. The file name is never used to decide the type.

E-invoices: a CII or UBL XML is read by :mod:`tools.documents.einvoice` (XPath provenance,
confidence 1.0); a PDF that carries one as an attachment (ZUGFeRD, Factur-X, XRechnung) gets the
XML's values, checked against the printed page (``EINVOICE_MISMATCH`` findings).
"""

from __future__ import annotations

from pathlib import Path

from tools.errors import DocumentError, InputTooLargeError, RepairDeskError, UnsupportedDocumentError
from tools.messages.model import Extraction, Finding
from tools.sniff import sniff

__all__ = ["MAX_INPUT_BYTES", "extract_bytes", "extract_path", "sniff"]

MAX_INPUT_BYTES = 25 * 1024 * 1024


def extract_bytes(data: bytes, source: str) -> list[Extraction]:
    if not data:
        raise DocumentError("empty input (0 bytes)", source=source)
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLargeError(f"{len(data)} bytes is over the {MAX_INPUT_BYTES}-byte limit", source=source)
    kind = sniff(data)
    if kind == "xml":
        from tools.documents.einvoice import is_einvoice_xml, read_einvoice

        if is_einvoice_xml(data):
            return [read_einvoice(data, source)]
        from tools.messages.iso20022 import parse_xml

        return [parse_xml(data, source)]
    if kind == "fin":
        from tools.messages.swift import parse_fin

        return parse_fin(data.decode("utf-8", errors="replace"), source)
    if kind in {"pdf", "image", "text"}:
        try:
            from tools.documents import extract_document
        except ImportError as exc:  # pragma: no cover - the documents package ships with the app
            raise UnsupportedDocumentError(f"no reader for {kind} input: {exc}", source=source) from exc
        if kind != "pdf":
            return extract_document(data, source)
        attached: list[tuple[str, bytes]] = []  # the PDF's XML attachments, read with its pages
        return _with_einvoice(source, extract_document(data, source, attached), attached)
    raise UnsupportedDocumentError(f"unrecognised content ({kind})", source=source)


def _with_einvoice(
    source: str, extractions: list[Extraction], candidates: list[tuple[str, bytes]]
) -> list[Extraction]:
    """A PDF/A-3 e-invoice (ZUGFeRD, Factur-X, XRechnung): the embedded XML's values, checked
    against the printed page (see :mod:`tools.documents.einvoice_merge`). ``candidates`` are the
    PDF's XML attachments, collected by the reader while it had the document open."""
    from tools.documents.einvoice import einvoice_of, read_einvoice
    from tools.documents.einvoice_merge import merge

    if len(extractions) != 1 or extractions[0].remittance is None:
        return extractions
    attached = einvoice_of(candidates)
    if attached is None:
        return extractions
    name, xml = attached
    try:
        invoice = read_einvoice(xml, f"{source}:{name}")
    except RepairDeskError as exc:
        # An unreadable attachment: the page's reading stands, and the reason is shown.
        extractions[0].findings.append(
            Finding(code="EINVOICE_UNREADABLE", severity="warning", message=f"attached {name}: {exc.reason}")
        )
        return extractions
    return [merge(extractions[0], invoice, name)]


def extract_path(path: Path) -> list[Extraction]:
    source = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise RepairDeskError("no such file", source=str(path)) from exc
    except IsADirectoryError as exc:
        raise RepairDeskError("is a directory, not a file", source=str(path)) from exc
    except OSError as exc:
        raise RepairDeskError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    return extract_bytes(data, source)
