"""Typed errors. Every bad input surfaces as one of these, naming the input and the reason."""

from __future__ import annotations


class RepairDeskError(Exception):
    """Base of every error the product raises on purpose. ``code`` is stable and machine-readable."""

    code = "error"
    status = 400

    def __init__(self, reason: str, *, source: str | None = None) -> None:
        self.reason = reason
        self.source = source
        super().__init__(f"{source}: {reason}" if source else reason)


class ParseError(RepairDeskError):
    """A payment message (FIN or XML) that cannot be read at all."""

    code = "parse_error"
    status = 422


class UnsafeInputError(ParseError):
    """Input refused for safety: XML entities, external references, over a size limit."""

    code = "unsafe_input"
    status = 422


class InputTooLargeError(RepairDeskError):
    code = "input_too_large"
    status = 413


class UnsupportedDocumentError(RepairDeskError):
    """Content whose type is not one we read (detected from the bytes, not the file name)."""

    code = "unsupported_document"
    status = 415


class DocumentError(RepairDeskError):
    """A document (PDF, image) that is corrupt, encrypted, empty or over a limit."""

    code = "document_error"
    status = 422


class NotFoundError(RepairDeskError):
    code = "not_found"
    status = 404


class ValidationError(RepairDeskError):
    """Input that parses but breaks the schema (reference data, cases)."""

    code = "validation_error"
    status = 422
