"""One entry point for every input: detect the type from the bytes, route to the right reader.

Contract: ``extract_bytes(data, source)`` returns one or more canonical :class:`Extraction` objects
(several when a file holds several messages) or raises a :class:`RepairDeskError` subclass naming
``source`` and the reason. The file name is never used to decide the type.
"""

from __future__ import annotations

from pathlib import Path

from tools.errors import DocumentError, InputTooLargeError, RepairDeskError, UnsupportedDocumentError
from tools.messages.model import Extraction
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
        return extract_document(data, source)
    raise UnsupportedDocumentError(f"unrecognised content ({kind})", source=source)


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
