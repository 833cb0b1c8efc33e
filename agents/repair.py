"""Apply final changes to the canonical payment and write the repaired message in the input's format.

Contract: :func:`repaired_message` sets each ``field`` (a contract path such as
``payment.creditor.account.iban``) to its ``new`` value, validates the result against the canonical
model, writes it (MT103 FIN for FIN input or ``message_type`` 103, pacs.008 XML for XML input or a
``pacs.*`` payment), re-parses what it wrote and checks that every changed field reads back with its
new value and carries no error finding. Any failure raises :class:`tools.errors.ValidationError`
naming the field and the reason; nothing is half-applied because the input dict is never modified.
"""

from __future__ import annotations

import copy
from typing import Any

from tools.errors import RepairDeskError, ValidationError
from tools.extract import extract_bytes
from tools.messages.model import Payment, to_json_dict
from tools.procedures import default_policies
from tools.procedures.expressions import walk


def set_path(target: dict[str, Any], field: str, value: Any) -> None:
    parts = field.split(".")
    if parts[0] != "payment" or len(parts) < 2:
        raise ValidationError("only payment fields can be changed", source=field)
    node = target
    for part in parts[1:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ValidationError(f"{part!r} is not an object", source=field)
        node = child
    node[parts[-1]] = value


def output_format(message_format: str, payment: dict[str, Any]) -> str:
    if message_format in ("fin", "xml"):
        return message_format
    return "xml" if str(payment.get("message_type", "")).startswith("pacs") else "fin"


def _write(payment: Payment, fmt: str) -> str:
    if fmt == "xml":
        from tools.messages.iso20022 import write_pacs008

        written = write_pacs008(payment)
        return written.decode("utf-8") if isinstance(written, bytes) else str(written)
    from tools.messages.swift import write_mt103

    return write_mt103(payment)


def repaired_message(payment: dict[str, Any], changes: list[dict[str, Any]], message_format: str) -> str:
    """The repaired message text (see module docstring)."""
    updated = copy.deepcopy(payment)
    for change in changes:
        if change["field"] in default_policies().money_fields.fields:
            raise ValidationError("amount and currency are never changed by a repair", source=change["field"])
        set_path(updated, change["field"], change["new"])
    try:
        model = Payment.model_validate(updated)
    except ValueError as exc:
        raise ValidationError(f"the repaired payment is invalid: {exc}", source="changes") from exc
    fmt = output_format(message_format, payment)
    text = _write(model, fmt)
    try:
        extractions = extract_bytes(text.encode("utf-8"), "repaired")
    except RepairDeskError as exc:
        raise ValidationError(
            f"the repaired message does not re-parse: {exc.reason}", source="repaired"
        ) from exc
    reparsed = next((e for e in extractions if e.payment is not None), None)
    if reparsed is None:
        raise ValidationError("the repaired message holds no payment", source="repaired")
    back = {"payment": to_json_dict(reparsed.payment)}  # type: ignore[arg-type]
    for change in changes:
        got = walk(back, change["field"].split("."))
        if str(got) != str(change["new"]):
            raise ValidationError(f"reads back as {got!r}, not {change['new']!r}", source=change["field"])
        bad = [f for f in reparsed.findings if f.severity == "error" and f.field == change["field"]]
        if bad:
            raise ValidationError(f"still invalid after repair: {bad[0].message}", source=change["field"])
    return text
