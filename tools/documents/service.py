"""The entry point behind :func:`tools.documents.extract_document` (see the package docstring)."""

from __future__ import annotations

from tools.documents.layout import Page
from tools.errors import DocumentError, RepairDeskError, UnsupportedDocumentError
from tools.messages.model import Extraction


def read_pages(data: bytes, source: str, attachments: list[tuple[str, bytes]] | None = None) -> list[Page]:
    """Pick the reader from the bytes (never the name) and read every page; a PDF's ``.xml``
    attachments are appended to ``attachments`` when it is given (see :func:`~.pdf.read_pdf`)."""
    from tools.sniff import sniff

    if not data:
        raise DocumentError("empty input (0 bytes)", source=source)
    kind = sniff(data)
    if kind == "pdf":
        from tools.documents.pdf import read_pdf

        return read_pdf(data, source, attachments)
    if kind == "image":
        from tools.documents.images import read_image

        return read_image(data, source)
    if source.lower().endswith(".pdf"):
        raise UnsupportedDocumentError("named .pdf but the content is not a PDF", source=source)
    if kind in {"text", "fin"}:
        from tools.documents.text import read_text

        return read_text(data, source)
    raise UnsupportedDocumentError(f"not a document this reader handles ({kind})", source=source)


def _plain_text(pages: list[Page]) -> str:
    return "\n".join(line.text for page in pages for line in page.lines)


def extract_document(
    data: bytes, source: str, attachments: list[tuple[str, bytes]] | None = None
) -> list[Extraction]:
    from tools.documents.extractor import extract_pages
    from tools.documents.swift_scan import looks_like_fin, repair_fin

    pages = read_pages(data, source, attachments)
    text = _plain_text(pages)
    if looks_like_fin(text):
        repaired, corrections = repair_fin(text)
        try:
            from tools.messages.swift import parse_fin
        except ImportError as exc:
            raise UnsupportedDocumentError(
                f"SWIFT message found but no MT parser: {exc}", source=source
            ) from exc
        try:
            results = parse_fin(repaired, source)
        except RepairDeskError:
            results = []
        if results:
            for result in results:
                result.findings.extend(corrections)
            return results
    return [extract_pages(pages, source)]
