"""Validation of the contract's exception case and of an analyst's review decision.

Contract: :func:`validate_case` returns the case unchanged or raises
:class:`tools.errors.ValidationError` naming the field and the reason (the CLI and the API turn
that into exit 1 / 422). :func:`validate_decision` does the same for a resume value and returns it
normalised: ``{"decision", "changes", "comment", "user"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.errors import ValidationError

DECISIONS = ("approve", "edit", "reject")


def validate_case(case: Any, source: str = "case") -> dict[str, Any]:
    if not isinstance(case, Mapping):
        raise ValidationError("an exception case must be a JSON object", source=source)
    message, payment = case.get("message"), case.get("payment")
    if not message and not payment and not case.get("documents"):
        raise ValidationError(
            "the case needs `message` (FIN or XML text), `payment`, or a document holding a payment",
            source=source,
        )
    if message is not None and not isinstance(message, str):
        raise ValidationError("`message` must be the raw FIN or XML text", source=source)
    if payment is not None and not isinstance(payment, Mapping):
        raise ValidationError("`payment` must be an object (contract: Payment)", source=source)
    for key in ("exception_code", "case_id", "customer_id", "notes"):
        if case.get(key) is not None and not isinstance(case[key], str):
            raise ValidationError(f"`{key}` must be a string", source=source)
    documents = case.get("documents") or []
    if not isinstance(documents, list):
        raise ValidationError("`documents` must be a list", source=source)
    for index, document in enumerate(documents):
        if not isinstance(document, Mapping) or not isinstance(document.get("content_base64"), str):
            raise ValidationError(f"documents[{index}] needs `content_base64` text", source=source)
    return dict(case)


def _change_value(value: Any, where: str, source: str) -> str | list[str] | None:
    """A change's new value as the payment model takes it: text, or a list of lines for list fields
    (address and remittance lines); anything else is refused rather than turned into its repr."""
    if value is None:
        return None
    if isinstance(value, list):
        if not all(isinstance(line, str) for line in value):
            raise ValidationError(f"{where}: a list value must hold only text lines", source=source)
        return list(value)
    if isinstance(value, (Mapping, set, tuple)):
        raise ValidationError(f"{where}: `new` must be text or a list of lines", source=source)
    return str(value)


def validate_decision(decision: Any, source: str = "decision") -> dict[str, Any]:
    if not isinstance(decision, Mapping):
        raise ValidationError("a decision must be an object", source=source)
    kind = decision.get("decision")
    if kind not in DECISIONS:
        raise ValidationError(
            f"`decision` must be one of {', '.join(DECISIONS)}, not {kind!r}", source=source
        )
    changes = decision.get("changes") or []
    if not isinstance(changes, list):
        raise ValidationError("`changes` must be a list", source=source)
    cleaned = []
    for index, change in enumerate(changes):
        if not isinstance(change, Mapping) or not isinstance(change.get("field"), str) or "new" not in change:
            raise ValidationError(f"changes[{index}] needs `field` and `new`", source=source)
        cleaned.append(
            {"field": change["field"], "new": _change_value(change["new"], f"changes[{index}]", source)}
        )
    if kind == "edit" and not cleaned:
        raise ValidationError("an edit needs the changed `changes`", source=source)
    comment = decision.get("comment")
    user = decision.get("user")
    return {
        "decision": kind,
        "changes": cleaned,
        "comment": None if comment is None else str(comment),
        "user": None if user is None else str(user),
    }
