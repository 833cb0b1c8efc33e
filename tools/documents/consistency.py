"""Do the attached documents describe this payment? Amount, currency, references, beneficiary.

Contract: :func:`check_documents` ``(payment, documents) -> list[dict]`` takes the payment and the
documents' extractions as the JSON dicts the agent state holds and returns findings
(``{"code", "severity", "message", "field"}``, ``field`` naming the document as
``documents[i].remittance.<name>``):

- ``DOCUMENT_PAYMENT_MISMATCH`` severity **error**: another currency; another amount where the
  document stands for the whole payment (a remittance advice, or an invoice when the payment names
  at most one invoice); an IBAN to pay to that is not the account credited; a credit note
  (negative total) attached to a payment.
- ``DOCUMENT_PAYMENT_MISMATCH`` severity **warning**: an invoice's amount differing from a payment
  that names several invoices; the document's invoice numbers or payment reference absent from
  everything the payment quotes; a beneficiary name unlike the creditor's.
- A document's own ``EINVOICE_MISMATCH`` errors are lifted to the case, so they weigh on the
  decision as much as the payment's own findings.

Document text is untrusted: these findings only ever stop a proposal (the guard escalates a
``no_action`` that has an error here); no value of a document becomes a repair value through them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

CODE = "DOCUMENT_PAYMENT_MISMATCH"
_CHECKED_TYPES = {"invoice", "remittance_advice"}
NAME_MIN_SCORE = 60  # rapidfuzz token_set_ratio below which a beneficiary name is "unlike"


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _compact(value: Any) -> str:
    return re.sub(r"[^0-9a-z]", "", str(value or "").casefold())


def _finding(severity: str, message: str, index: int, name: str) -> dict[str, str]:
    return {
        "code": CODE,
        "severity": severity,
        "message": message,
        "field": f"documents[{index}].remittance.{name}",
    }


def _quoted(payment: Mapping[str, Any]) -> str:
    """Everything the payment quotes that may carry a reference, compacted and joined."""
    info = payment.get("remittance_information") or {}
    parts = [
        payment.get("reference"),
        payment.get("end_to_end_id"),
        payment.get("instruction_id"),
        *(info.get("references") or []),
        *(info.get("unstructured") or []),
        *(payment.get("sender_to_receiver_information") or []),
    ]
    return " ".join(_compact(p) for p in parts if p)


def _payment_invoice_count(payment: Mapping[str, Any]) -> int:
    info = payment.get("remittance_information") or {}
    return len([r for r in info.get("references") or [] if r])


def _check_one(payment: Mapping[str, Any], document: Mapping[str, Any], index: int) -> list[dict[str, str]]:
    remittance = document.get("remittance") or {}
    kind = document.get("doc_type")
    label = "remittance advice" if kind == "remittance_advice" else "invoice"
    found: list[dict[str, str]] = []
    pay_currency, doc_currency = payment.get("currency"), remittance.get("currency")
    if pay_currency and doc_currency and pay_currency != doc_currency:
        found.append(
            _finding(
                "error",
                f"the attached {label} is in {doc_currency}, the payment in {pay_currency}",
                index,
                "currency",
            )
        )
    pay_amount, doc_amount = _decimal(payment.get("amount")), _decimal(remittance.get("total_amount"))
    if doc_amount is not None and doc_amount < 0:
        found.append(
            _finding(
                "error",
                f"the attached {label} is a credit note ({doc_amount}); nothing is owed on it",
                index,
                "total_amount",
            )
        )
    elif pay_amount is not None and doc_amount is not None and doc_amount != pay_amount:
        whole = kind == "remittance_advice" or _payment_invoice_count(payment) <= 1
        found.append(
            _finding(
                "error" if whole else "warning",
                f"the attached {label} totals {doc_currency or ''} {doc_amount}".replace("  ", " ")
                + f", the payment is {pay_currency or ''} {pay_amount}".replace("  ", " "),
                index,
                "total_amount",
            )
        )
    creditor = payment.get("creditor") or {}
    credited_iban = (creditor.get("account") or {}).get("iban")
    doc_iban = remittance.get("iban")
    if credited_iban and doc_iban and _compact(credited_iban) != _compact(doc_iban):
        found.append(
            _finding(
                "error",
                f"the attached {label} asks for payment to {doc_iban}, the payment credits {credited_iban}",
                index,
                "iban",
            )
        )
    quoted = _quoted(payment)
    candidates = [remittance.get("invoice_number")] + [
        line.get("invoice_number") for line in remittance.get("lines") or []
    ]
    numbers = [str(n) for n in candidates if n and len(_compact(n)) >= 3]
    if quoted and numbers and not any(_compact(n) in quoted for n in numbers):
        found.append(
            _finding(
                "warning",
                f"the payment quotes none of the attached {label}'s invoice numbers"
                f" ({', '.join(numbers[:5])})",
                index,
                "invoice_number",
            )
        )
    reference = remittance.get("payment_reference")
    if reference and quoted and len(_compact(reference)) >= 4 and _compact(reference) not in quoted:
        found.append(
            _finding(
                "warning",
                f"the payment does not quote the {label}'s payment reference {reference}",
                index,
                "payment_reference",
            )
        )
    found.extend(_beneficiary(creditor, remittance, label, index))
    return found


def _beneficiary(
    creditor: Mapping[str, Any], remittance: Mapping[str, Any], label: str, index: int
) -> list[dict[str, str]]:
    from rapidfuzz import fuzz

    payee = (remittance.get("payee") or {}).get("name")
    name = creditor.get("name")
    if not payee or not name:
        return []
    score = fuzz.token_set_ratio(str(payee).casefold(), str(name).casefold())
    if score >= NAME_MIN_SCORE:
        return []
    return [
        _finding(
            "warning",
            f"the attached {label} is issued by {payee}, the payment credits {name}",
            index,
            "payee.name",
        )
    ]


def check_documents(
    payment: Mapping[str, Any] | None, documents: Sequence[Mapping[str, Any]]
) -> list[dict[str, str]]:
    if not payment:
        return []
    findings: list[dict[str, str]] = []
    for index, document in enumerate(documents):
        if document.get("doc_type") not in _CHECKED_TYPES:
            continue
        findings.extend(_check_one(payment, document, index))
        for own in document.get("findings") or []:
            if own.get("code") == "EINVOICE_MISMATCH":
                findings.append({**own, "field": f"documents[{index}].{own.get('field') or 'remittance'}"})
    return findings


def blocks_no_action(findings: Sequence[Mapping[str, Any]]) -> list[str]:
    """Messages of the findings that forbid closing the case as matching (``no_action``)."""
    return [
        str(f.get("message"))
        for f in findings
        if f.get("severity") == "error" and f.get("code") in {CODE, "EINVOICE_MISMATCH"}
    ]
