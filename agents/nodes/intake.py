"""intake: parse the failed payment (FIN/XML text or a Payment object) and the attached documents.

The case's one payment comes from exactly one parse (:func:`read_payment`): the message's when there
is a message, and a ``payment`` given beside it must agree with it field by field (a
:class:`tools.errors.ValidationError` names the differing fields otherwise), so the payment the agent
repairs and the payment the analyst reads are the same; with neither, the first document from which
a payment was extracted (a printed or scanned MT103) supplies it. A document that cannot be read
does not stop the case: it is listed in ``document_errors`` and the agent goes on without it.
Document content is data for the tools, never instructions.

Extract once: the service parses the message and extracts the documents when it accepts the case
(in its document sandbox) and hands the results in as ``case["intake"]`` (the API's case schema
forbids clients from sending that key); intake then uses them instead of reading everything again.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from agents.cases import validate_case
from agents.state import TriageState
from tools.documents.consistency import check_documents
from tools.errors import ParseError, RepairDeskError, ValidationError
from tools.extract import extract_bytes, sniff
from tools.messages.model import Payment, to_json_dict

Extractor = Callable[[bytes, str], list[dict[str, Any]]]


def _extract_json(data: bytes, source: str) -> list[dict[str, Any]]:
    return [to_json_dict(extraction) for extraction in extract_bytes(data, source)]


def _message(text: str, source: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    data = text.encode("utf-8")
    kind = sniff(data)
    if kind not in ("fin", "xml"):
        raise ParseError("`message` is neither SWIFT FIN nor ISO 20022 XML", source=source)
    for extraction in extract_bytes(data, source):
        if extraction.payment is not None:
            findings = [f.model_dump(mode="json", exclude_none=True) for f in extraction.findings]
            return to_json_dict(extraction.payment), findings, kind
    raise ParseError("the message holds no payment", source=source)


def _given_payment(payment: Any, source: str) -> dict[str, Any]:
    from pydantic import ValidationError as PydanticValidationError

    try:
        return to_json_dict(Payment.model_validate(payment))
    except PydanticValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'payment'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise ParseError(f"`payment` does not match the contract: {reasons}", source=source) from exc
    except ValueError as exc:
        raise ParseError(f"`payment` does not match the contract: {exc}", source=source) from exc


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(value, list):
        found = {}
        for index, item in enumerate(value):
            found.update(_leaves(item, f"{prefix}[{index}]"))
        return found
    return {prefix: value}


def _same(left: Any, right: Any) -> bool:
    if left == right:
        return True
    try:  # "500000" and "500000.00" are the same amount
        return Decimal(str(left)) == Decimal(str(right))
    except (InvalidOperation, ValueError):
        return str(left).strip().casefold() == str(right).strip().casefold()


def differing_fields(parsed: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """Fields of ``given`` that the message's payment ``parsed`` lacks or holds with another value."""
    ours = _leaves(parsed)
    return [
        name for name, value in _leaves(given).items() if name not in ours or not _same(ours[name], value)
    ]


def read_payment(
    case: Mapping[str, Any], source: str, documents: list[dict[str, Any]] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """The case's one payment, its parse findings and format (``fin``, ``xml``, ``payment``, ``document``).

    Raises :class:`ParseError` when the message or payment does not parse and
    :class:`ValidationError` when they disagree or when nothing yields a payment."""
    message, given = case.get("message"), case.get("payment")
    if message:
        payment, findings, kind = _message(str(message), f"{source} message")
        if given:
            differing = differing_fields(payment, _given_payment(given, source))
            if differing:
                raise ValidationError(
                    "`message` and `payment` describe different payments; differing fields: "
                    + ", ".join(f"payment.{name}" for name in differing[:20]),
                    source=source,
                )
        return payment, findings, kind
    if given:
        return _given_payment(given, source), [], "payment"
    for extraction in documents or []:
        if extraction.get("payment"):
            return dict(extraction["payment"]), list(extraction.get("findings") or []), "document"
    raise ValidationError(
        "the case needs `message` or `payment`, or a document from which a payment can be read",
        source=source,
    )


def read_documents(
    case: Mapping[str, Any], source: str, extract: Extractor = _extract_json
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Canonical extractions of the case's documents, and ``{"name", "reason"}`` for each unreadable one."""
    documents: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for index, document in enumerate(case.get("documents") or []):
        name = str(document.get("name") or f"{source}:documents[{index}]")
        try:
            data = base64.b64decode(document["content_base64"], validate=True)
            documents.extend(extract(data, name))
        except (binascii.Error, ValueError):
            errors.append({"name": name, "reason": "content_base64 is not valid base64"})
        except RepairDeskError as exc:
            errors.append({"name": name, "reason": exc.reason})
    return documents, errors


def intake(state: TriageState) -> dict[str, Any]:
    case = validate_case(state["case"])
    source = str(case.get("case_id") or "case")
    carried = case.get("intake")
    if isinstance(carried, Mapping) and isinstance(carried.get("documents"), list):
        documents = list(carried["documents"])
        errors = list(carried.get("document_errors") or [])
    else:
        documents, errors = read_documents(case, source)
    if isinstance(carried, Mapping) and isinstance(carried.get("payment"), Mapping):
        payment = dict(carried["payment"])
        findings = list(carried.get("findings") or [])
        kind = str(carried.get("message_format") or "payment")
    else:
        payment, findings, kind = read_payment(case, source, documents)
    # Documents that disagree with the payment (amount, currency, account, references) are findings.
    findings = findings + check_documents(payment, documents)
    return {
        "payment": payment,
        "findings": findings,
        "message_format": kind,
        "documents": documents,
        "document_errors": errors,
    }
