"""Drafts of investigation messages about a payment: MT199 free-format text, or the fields of a
camt.056 (cancellation request) or camt.029 (resolution of investigation).

A draft is never sent: it is evidence the analyst reviews. Text is limited to the SWIFT X
character set, so names from a message (untrusted) cannot smuggle other characters into it. The
draft's own reference is a hash of its inputs, so the same case drafts the same message.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from tools.errors import ValidationError
from tools.messages.swift.writer import write_mt199
from tools.payments.common import normalise_bic, text_arg

KINDS = ("mt199", "camt.056", "camt.029")
_X_CHARSET = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_LINE = 50  # MT n99 field 79: 35 lines of 50 characters
_MAX_LINES = 35
_CODE = re.compile(r"^[A-Z0-9]{4}$")


def draft_investigation(
    kind: str,
    reason: str,
    payment: Mapping[str, Any] | BaseModel | None = None,
    *,
    reason_code: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """Draft an investigation message about ``payment`` (canonical Payment, as a dict or model).

    ``reason`` is free text (or a four-letter ISO code, used as the reason code of a camt draft).
    Result: ``kind``, ``reference`` (the draft's own id), ``related_reference`` (the payment's),
    ``text`` (MT199) or ``fields`` (camt.056/camt.029), ``ref`` = ``draft:<kind>:<reference of
    the payment, or NONREF>``.
    """
    wanted = text_arg(kind, "kind", max_len=16).lower()
    if wanted not in KINDS:
        raise ValidationError(f"expected one of {', '.join(KINDS)}", source="kind")
    why = text_arg(reason, "reason", max_len=2000)
    pay = _payment_dict(payment)
    code = (reason_code or (why if _CODE.match(why) else "")).upper() or None
    related = _x(str(pay.get("reference") or "NONREF"))[:16] or "NONREF"
    own = (
        "RD" + hashlib.sha256(f"{wanted}|{related}|{pay.get('uetr')}|{why}".encode()).hexdigest()[:14].upper()
    )
    when = (created_at or datetime.now(UTC)).replace(microsecond=0)
    result: dict[str, Any] = {
        "kind": wanted,
        "reference": own,
        "related_reference": related,
        "ref": f"draft:{wanted}:{related}",
    }
    if wanted == "mt199":
        result["text"] = _mt199(own, related, why, pay)
    else:
        result["fields"] = _camt(wanted, own, why, code, pay, when)
    return result


def _payment_dict(payment: Mapping[str, Any] | BaseModel | None) -> dict[str, Any]:
    if payment is None:
        return {}
    if isinstance(payment, BaseModel):
        return payment.model_dump(mode="json", exclude_none=True)
    if isinstance(payment, Mapping):
        return dict(payment)
    raise ValidationError(f"expected a payment object, got {type(payment).__name__}", source="payment")


def _x(text: str) -> str:
    """Text in the SWIFT X character set: accents dropped, anything else becomes a space."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", _X_CHARSET.sub(" ", ascii_text)).strip()


def _party_name(pay: Mapping[str, Any], role: str) -> str | None:
    party = pay.get(role)
    return str(party.get("name")) if isinstance(party, Mapping) and party.get("name") else None


def _mt199(own: str, related: str, reason: str, pay: Mapping[str, Any]) -> str:
    lines = [f"QUERY ON YOUR PAYMENT {related}"]
    if pay.get("uetr"):
        lines.append(f"UETR {_x(str(pay['uetr']))}")
    if pay.get("amount") and pay.get("currency"):
        amount = _x(str(pay["amount"])).replace(".", ",")
        value_date = f" VALUE {_x(str(pay['value_date']))}" if pay.get("value_date") else ""
        lines.append(f"AMOUNT {_x(str(pay['currency']))} {amount}{value_date}")
    creditor = _party_name(pay, "creditor")
    if creditor:
        lines.append(f"BENEFICIARY {_x(creditor)}")
    lines.extend(textwrap.wrap(f"REASON {_x(reason)}", _LINE))
    lines.append("PLEASE ADVISE. REGARDS")
    narrative = [line[:_LINE] for line in lines][:_MAX_LINES]
    # We received the payment, so we query its sender.
    ours = normalise_bic(str(pay.get("receiver_bic") or ""), "receiver_bic")
    theirs = normalise_bic(str(pay.get("sender_bic") or ""), "sender_bic")
    if ours and theirs:
        try:
            return write_mt199(ours, theirs, own, related, narrative)
        except ValidationError:
            pass  # fall through to the headerless text block
    body = "\n".join([f":20:{own}", f":21:{related}", ":79:" + "\n".join(narrative)])
    return f"{{4:\n{body}\n-}}"


def _camt(
    kind: str, own: str, reason: str, code: str | None, pay: Mapping[str, Any], when: datetime
) -> dict[str, Any]:
    ours = normalise_bic(str(pay.get("receiver_bic") or ""), "receiver_bic")
    theirs = normalise_bic(str(pay.get("sender_bic") or ""), "sender_bic")
    original = {
        "original_message_id": pay.get("reference"),
        "original_message_type": pay.get("message_type"),
        "original_end_to_end_id": pay.get("end_to_end_id"),
        "original_uetr": pay.get("uetr"),
        "original_interbank_settlement_amount": None if pay.get("amount") is None else str(pay["amount"]),
        "currency": pay.get("currency"),
        "original_interbank_settlement_date": pay.get("value_date"),
    }
    info = [] if code == reason.upper() else textwrap.wrap(_x(reason), 105)
    assignment = {
        "id": own,
        "assigner_bic": ours,
        "assignee_bic": theirs,
        "creation_datetime": when.isoformat(),
    }
    case = {"id": own, "creator_bic": ours}
    if kind == "camt.056":
        return {
            "assignment": assignment,
            "case": case,
            "underlying": original,
            "cancellation_reason": {"code": code, "additional_information": info},
        }
    return {
        "assignment": assignment,
        "resolved_case": case,
        "status": {"confirmation": "RJCR" if code else "PDCR"},
        "cancellation_details": {
            **original,
            "cancellation_status_reason": {"code": code, "additional_information": info},
        },
    }
