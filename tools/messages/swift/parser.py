"""``parse_fin``: FIN text to canonical extractions, one per message.

Contract: ``parse_fin(text, source)`` returns one :class:`Extraction` per user message in ``text``
(ACK/NAK service messages are reported as findings on the message they acknowledge). It raises
:class:`~tools.errors.ParseError` only when the text holds no recognisable FIN message at all (no
block, no field tag) or is over :data:`MAX_FIN_CHARS`; any other problem, however malformed the
input, becomes a finding. ``doc_type`` is ``swift.mtNNN`` (``swift.mt202cov`` / ``swift.mt205cov``
for cover payments); types without a payment or statement mapping carry a ``NO_PAYMENT_MAPPING``
finding and their fields in ``raw``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError

from tools.errors import ParseError
from tools.messages.model import Extraction
from tools.messages.swift.blocks import RawField, RawMessage, split_messages
from tools.messages.swift.builder import Collector
from tools.messages.swift.checks import check_bic
from tools.messages.swift.header import Header, read_header
from tools.messages.swift.payments import map_payment
from tools.messages.swift.rules import (
    check_fields,
    check_mandatory,
    check_mt103,
    check_mt202,
    field_index,
)
from tools.messages.swift.statements import map_statement

MAX_FIN_CHARS = 25 * 1024 * 1024

STATEMENT_TYPES = frozenset({"940", "941", "942", "950"})
_PAYMENT_TYPES = frozenset({"103", "202", "203", "205", "900", "910"})
_INVESTIGATION_SUFFIXES = ("92", "95", "96", "99")
_NOTE_SEVERITY = {
    "BLOCK_UNTERMINATED": "warning",
    "BLOCK_FORMAT": "warning",
    "UNEXPECTED_TEXT": "info",
    "ESCAPED_NEWLINES": "info",
}
_STATEMENT_TAGS = frozenset({"60F", "60M", "62F", "62M", "61", "64", "65", "60", "62"})


def parse_fin(text: str, source: str) -> list[Extraction]:
    """Every FIN message in ``text`` as a canonical extraction (see the module docstring)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise ParseError(f"expected FIN text, got {type(text).__name__}", source=source)
    if len(text) > MAX_FIN_CHARS:
        raise ParseError(f"{len(text)} characters is over the {MAX_FIN_CHARS} limit", source=source)
    messages = split_messages(text)
    if not messages:
        raise ParseError(
            "no SWIFT FIN message found (no {1:...} blocks and no :NN: field tags)", source=source
        )
    if len(messages) == 1:  # the usual text: one message
        return [_extract(messages[0], source)]
    return [_extract(msg, source) for msg in messages]


def infer_type(fields: list[RawField]) -> str | None:
    """Message type of a headerless message, from the fields it holds."""
    tags = {f.tag for f in fields}
    numbers = {t[:2] for t in tags}
    if "34F" in tags or "13D" in tags:  # floor limit / date-time indication: an interim report
        return "942"
    if tags & _STATEMENT_TAGS:
        return "940"
    if "32A" in tags and ("50" in numbers or "59" in numbers):
        return "103"
    if "32A" in tags and "58" in numbers:
        return "202"
    if "79" in tags and "20" in tags:
        return "199"
    return None


def _extract(msg: RawMessage, source: str) -> Extraction:
    out = Collector()
    for code, message in msg.notes:
        out.finding(code, _NOTE_SEVERITY.get(code, "warning"), message)
    service = msg.block2 is None and msg.is_service  # user messages have block 2: no property call
    if msg.acks or service:
        _acknowledgements(msg, out)
    if service:
        return _service_extraction(msg, source, out)
    head = read_header(msg, out)
    mt = head.message_type
    if mt is None and msg.fields:
        mt = infer_type(msg.fields)
        if mt is not None:
            out.finding(
                "MESSAGE_TYPE_INFERRED", "info", f"no application header: read as MT{mt} from its fields"
            )
    if not msg.fields:
        out.finding("EMPTY_MESSAGE", "warning", "the message has no block-4 fields")
    result: dict[str, Any] = {"source": source, "doc_type": f"swift.mt{mt}" if mt else "swift.unknown"}
    if mt is None:
        if msg.fields:
            out.finding("MESSAGE_TYPE_UNKNOWN", "warning", "no application header and no telling fields")
    elif mt in STATEMENT_TYPES:
        statement = map_statement(mt, msg.fields, out)
        if head.sender_bic and "servicer_bic" not in statement:
            statement["servicer_bic"] = head.sender_bic
        result["statement"] = statement
        check_fields(msg.fields, "statement", out)
        check_mandatory(mt, msg.fields, "statement", out)
    elif mt in _PAYMENT_TYPES or mt[1:] in _INVESTIGATION_SUFFIXES:
        cov = mt in ("202", "205") and (
            head.validation_flag == "COV" or any(f.tag[:2] in ("50", "59") for f in msg.fields)
        )
        if cov:
            result["doc_type"] += "cov"
        result["payment"] = _payment(mt, cov, msg, head, out)
    else:
        out.finding(
            "NO_PAYMENT_MAPPING", "info", f"MT{mt} has no payment or statement mapping; fields are in raw"
        )
        check_fields(msg.fields, "payment", out)
    result["raw"] = _raw(msg, head)
    result["findings"] = out.findings
    result["fields"] = out.field_dicts()
    try:
        # the validator itself: model_validate adds only a Python call with default arguments
        return Extraction.__pydantic_validator__.validate_python(result)
    except PydanticValidationError as exc:  # a mapping bug must not crash the caller: report it
        fallback = {k: v for k, v in result.items() if k not in ("payment", "statement", "fields")}
        fallback["findings"] = [
            *out.findings,
            {
                "code": "MAPPING_ERROR",
                "severity": "error",
                "message": f"canonical model rejected: {exc}"[:500],
            },
        ]
        return Extraction.model_validate(fallback)


def _payment(mt: str, cov: bool, msg: RawMessage, head: Header, out: Collector) -> dict[str, Any]:
    pay = map_payment(mt, msg.fields, cov, out)
    if head.uetr:
        pay["uetr"] = head.uetr
        out.field("payment.uetr", head.uetr, "121", 1)
    if head.sender_bic:
        pay["sender_bic"] = head.sender_bic
        out.field("payment.sender_bic", head.sender_bic, "1" if head.direction != "O" else "2", 1)
        check_bic(head.sender_bic, "payment.sender_bic", out)
    if head.receiver_bic:
        pay["receiver_bic"] = head.receiver_bic
        out.field("payment.receiver_bic", head.receiver_bic, "2" if head.direction != "O" else "1", 1)
        check_bic(head.receiver_bic, "payment.receiver_bic", out)
    kind = "fi" if mt in ("202", "203", "205") else "payment"
    check_fields(msg.fields, kind, out)
    tags = field_index(msg.fields)  # once for the mandatory-field and network-rule checks
    check_mandatory(mt, msg.fields, kind, out, tags)
    if mt == "103":
        check_mt103(msg.fields, head.validation_flag, head.sender_bic, head.receiver_bic, out, tags)
    elif mt in ("202", "205"):
        check_mt202(msg.fields, out, tags)
    return pay


def _acknowledgements(msg: RawMessage, out: Collector) -> None:
    services = [*msg.acks, msg] if msg.is_service else msg.acks
    for ack in services:
        values = dict(ack.service_fields)
        status = values.get("451", "").strip()
        if status == "0":
            out.finding("ACK", "info", "acknowledged by the network (ACK, 451:0)")
        elif status == "1":
            reason = values.get("405", "").strip()
            out.finding(
                "NAK", "error", f"rejected by the network (NAK, 451:1){' error ' + reason if reason else ''}"
            )
        else:
            out.finding("SERVICE_MESSAGE", "info", f"service message {values or ack.block1!r}")


def _service_extraction(msg: RawMessage, source: str, out: Collector) -> Extraction:
    status = dict(msg.service_fields).get("451", "").strip()
    doc_type = {"0": "swift.ack", "1": "swift.nak"}.get(status, "swift.service")
    return Extraction.model_validate(
        {"source": source, "doc_type": doc_type, "findings": out.findings, "raw": {"block1": msg.block1}}
    )


def _raw(msg: RawMessage, head: Header) -> dict[str, Any]:
    return {
        "block1": msg.block1,
        "block2": msg.block2,
        "block3": dict(msg.block3) if msg.block3 else {},
        "fields": [(f.tag, f.value) for f in msg.fields],
        "block5": dict(msg.block5) if msg.block5 else {},
        "trailer": dict(msg.user_trailer) if msg.user_trailer else {},
        "direction": head.direction,
        "validation_flag": head.validation_flag,
        "mur": head.mur,
    }
