"""Validation of the contract's exception case and of an analyst's review decision.

Contract: :func:`validate_case` returns the case unchanged or raises
:class:`tools.errors.ValidationError` naming the field and the reason (the CLI and the API turn
that into exit 1 / 422). :func:`validate_decision` does the same for a resume value, through the contract's
:class:`agents.contract.Decision`, and returns it normalised: ``{"decision", "changes", "comment",
"user"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from agents.contract import Decision, error_text
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


def validate_decision(decision: Any, source: str = "decision") -> dict[str, Any]:
    if not isinstance(decision, Mapping):
        raise ValidationError("a decision must be an object", source=source)
    try:
        parsed = Decision.model_validate(dict(decision))
    except PydanticValidationError as exc:
        raise ValidationError(error_text(exc), source=source) from exc
    return {
        "decision": parsed.decision,
        "changes": [{"field": c.field, "new": c.new} for c in parsed.changes],
        "comment": parsed.comment,
        "user": parsed.user,
    }
