"""The repaired outgoing message of a decided case, as stored or converted to the other format.

The agent stores the repaired message (MT103 FIN text or pacs.008 XML) on the case when the repair
is applied. ``repaired_message(case, "mt103" | "pacs008" | None)`` gives it as stored (None) or
re-written in the asked format: parsed back to the canonical payment, then written by
tools/messages/*/writer.py. A case without one, or one that does not convert, is a typed error.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.db.models import Case
from tools.errors import NotFoundError, ValidationError


@dataclass(frozen=True)
class RepairedMessage:
    content: bytes
    media_type: str
    filename: str
    format: str  # mt103 or pacs008


def _format_of(text: str) -> str:
    return "pacs008" if text.lstrip().startswith("<") else "mt103"


def _as(fmt: str, content: bytes, case_id: str) -> RepairedMessage:
    if fmt == "pacs008":
        return RepairedMessage(content, "application/xml", f"{case_id}-pacs008.xml", fmt)
    return RepairedMessage(content, "text/plain", f"{case_id}-mt103.fin", fmt)


def repaired_message(case: Case, fmt: str | None = None) -> RepairedMessage:
    if not case.repaired_message:
        raise NotFoundError("the case has no repaired message (not applied yet)", source=f"case {case.id}")
    stored = case.repaired_message
    stored_format = _format_of(stored)
    if fmt is None or fmt == stored_format:
        return _as(stored_format, stored.encode("utf-8"), case.id)
    from tools.extract import extract_bytes
    from tools.messages.iso20022.writer import write_pacs008
    from tools.messages.swift.writer import write_mt103

    payments = [e.payment for e in extract_bytes(stored.encode("utf-8"), f"case {case.id}") if e.payment]
    if not payments:
        raise ValidationError("the repaired message holds no payment to convert", source=f"case {case.id}")
    if fmt == "pacs008":
        return _as(fmt, write_pacs008(payments[0]), case.id)
    return _as(fmt, write_mt103(payments[0]).encode("utf-8"), case.id)
