"""intake: parse the failed payment (FIN/XML text or a Payment object) and the attached documents.

The message must parse (a :class:`tools.errors.RepairDeskError` names the case otherwise). A
document that cannot be read does not stop the case: it is listed in ``document_errors`` and the
agent goes on without it. Document content is data for the tools, never instructions.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from agents.cases import validate_case
from agents.state import TriageState
from tools.documents.consistency import check_documents
from tools.errors import ParseError, RepairDeskError
from tools.extract import extract_bytes, sniff
from tools.messages.model import Payment, to_json_dict


def _message(case: dict[str, Any], source: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    text: str | None = case.get("message")
    if text:
        data = text.encode("utf-8")
        kind = sniff(data)
        if kind not in ("fin", "xml"):
            raise ParseError("`message` is neither SWIFT FIN nor ISO 20022 XML", source=source)
        for extraction in extract_bytes(data, source):
            if extraction.payment is not None:
                findings = [f.model_dump(mode="json", exclude_none=True) for f in extraction.findings]
                return to_json_dict(extraction.payment), findings, kind
        raise ParseError("the message holds no payment", source=source)
    try:
        payment = Payment.model_validate(case["payment"])
    except ValueError as exc:
        raise ParseError(f"`payment` does not match the contract: {exc}", source=source) from exc
    return to_json_dict(payment), [], "payment"


def _documents(case: dict[str, Any], source: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    documents: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for index, document in enumerate(case.get("documents") or []):
        name = str(document.get("name") or f"{source}:documents[{index}]")
        try:
            data = base64.b64decode(document["content_base64"], validate=True)
            for extraction in extract_bytes(data, name):
                documents.append(to_json_dict(extraction))
        except (binascii.Error, ValueError):
            errors.append({"name": name, "reason": "content_base64 is not valid base64"})
        except RepairDeskError as exc:
            errors.append({"name": name, "reason": exc.reason})
    return documents, errors


def intake(state: TriageState) -> dict[str, Any]:
    case = validate_case(state["case"])
    source = str(case.get("case_id") or "case")
    payment, findings, kind = _message(case, source)
    documents, errors = _documents(case, source)
    # Documents that disagree with the payment (amount, currency, account, references) are findings.
    findings = findings + check_documents(payment, documents)
    return {
        "payment": payment,
        "findings": findings,
        "message_format": kind,
        "documents": documents,
        "document_errors": errors,
    }
