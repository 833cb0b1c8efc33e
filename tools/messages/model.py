"""The canonical payment model: one definition, ISO 20022 (pacs.008) meaning, snake_case.

Every parser (SWIFT MT, ISO 20022 XML, documents) produces these objects and nothing else.
Amounts are ``Decimal``; JSON output carries them as strings with a dot separator. Absent values
are omitted from JSON (see :func:`to_json_dict`), never written as null.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.messages.currencies import minor_units

_Date = date

Severity = Literal["error", "warning", "info"]
ChargeBearer = Literal["DEBT", "CRED", "SHAR", "SLEV"]
CreditDebit = Literal["CRDT", "DBIT"]


class Model(BaseModel):
    """Base for canonical models: strict field names, no silent extras."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)


class Account(Model):
    iban: str | None = None
    other: str | None = None
    currency: str | None = None
    name: str | None = None


class Party(Model):
    name: str | None = None
    address_lines: list[str] = Field(default_factory=list)
    country: str | None = None
    account: Account | None = None
    identifier: str | None = None  # BIC/BEI or organisation id when the party is identified by one
    town: str | None = None
    post_code: str | None = None


# Field declarations of the canonical model: alike in shape by design.
class Agent(Model):
    bic: str | None = None
    name: str | None = None
    clearing_id: str | None = None
    address_lines: list[str] = Field(default_factory=list)
    country: str | None = None
    account: Account | None = None


class RemittanceInformation(Model):
    unstructured: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)


class Payment(Model):
    message_type: str
    reference: str | None = None
    related_reference: str | None = None
    uetr: str | None = None
    end_to_end_id: str | None = None
    instruction_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    value_date: date | None = None
    instructed_amount: Decimal | None = None
    instructed_currency: str | None = None
    exchange_rate: Decimal | None = None
    charge_bearer: ChargeBearer | None = None
    charges: list[Charge] = Field(default_factory=list)
    sender_bic: str | None = None
    receiver_bic: str | None = None
    debtor: Party | None = None
    creditor: Party | None = None
    ultimate_debtor: Party | None = None
    ultimate_creditor: Party | None = None
    debtor_agent: Agent | None = None
    creditor_agent: Agent | None = None
    intermediary_agent: Agent | None = None
    instructing_agent: Agent | None = None
    instructed_agent: Agent | None = None
    senders_correspondent: Agent | None = None
    receivers_correspondent: Agent | None = None
    remittance_information: RemittanceInformation | None = None
    purpose: str | None = None
    bank_operation_code: str | None = None
    instruction_codes: list[str] = Field(default_factory=list)
    regulatory_reporting: list[str] = Field(default_factory=list)
    sender_to_receiver_information: list[str] = Field(default_factory=list)
    status: str | None = None  # pacs.002 transaction status, pacs.004 return etc.
    reason_code: str | None = None  # status/return/cancellation reason
    original_reference: str | None = None  # referenced message for returns, recalls, status
    narrative: list[str] = Field(default_factory=list)  # MT n99/n95/n96 free format text

    @field_validator("currency", "instructed_currency")
    @classmethod
    def _upper_currency(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class Charge(Model):
    amount: Decimal
    currency: str
    kind: Literal["sender", "receiver"] = "sender"


class Balance(Model):
    kind: str  # opening, closing, closing_available, forward_available, interim_opening, ...
    amount: Decimal  # signed: negative when debit
    currency: str | None = None
    date: _Date | None = None  # alias: a field named ``date`` shadows the type in this scope


class StatementEntry(Model):
    amount: Decimal  # always positive; the direction is in credit_debit
    currency: str | None = None
    credit_debit: CreditDebit
    reversal: bool = False
    value_date: date | None = None
    booking_date: date | None = None
    status: str | None = None
    transaction_code: str | None = None
    funds_code: str | None = None  # MT940 :61: funds code (third character of the currency code)
    customer_reference: str | None = None
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    uetr: str | None = None
    supplementary_details: str | None = None
    information: list[str] = Field(default_factory=list)  # :86: or AddtlNtryInf/RmtInf
    counterparty: Party | None = None


class Statement(Model):
    message_type: str  # "940", "942", "950", "camt.052", "camt.053", "camt.054"
    statement_id: str | None = None
    reference: str | None = None
    related_reference: str | None = None
    sequence_number: str | None = None
    account: Account | None = None
    owner: Party | None = None
    servicer_bic: str | None = None
    created_at: datetime | None = None
    balances: list[Balance] = Field(default_factory=list)
    entries: list[StatementEntry] = Field(default_factory=list)
    information: list[str] = Field(default_factory=list)


class RemittanceLine(Model):
    invoice_number: str | None = None
    invoice_date: date | None = None
    amount: Decimal | None = None
    discount: Decimal | None = None
    net_amount: Decimal | None = None
    description: str | None = None


class Remittance(Model):
    payer: Party | None = None
    payee: Party | None = None
    payment_reference: str | None = None
    payment_date: date | None = None
    currency: str | None = None
    total_amount: Decimal | None = None
    invoice_number: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    lines: list[RemittanceLine] = Field(default_factory=list)
    iban: str | None = None
    bic: str | None = None


class FieldSource(Model):
    """Where a value came from: a FIN tag (and line), an XPath, or a page and bounding box."""

    tag: str | None = None
    line: int | None = None
    xpath: str | None = None
    page: int | None = None
    bbox: list[float] | None = None
    rule: str | None = None  # a learned document layout rule that read the value, and who taught it


class ExtractedField(Model):
    name: str  # dotted path in the extraction, e.g. "payment.creditor.account.iban"
    value: str
    confidence: float = Field(ge=0.0, le=1.0)
    source: FieldSource


class Finding(Model):
    code: str  # e.g. IBAN_CHECKSUM, FIELD_FORMAT, MANDATORY_FIELD, NETWORK_RULE_C1
    severity: Severity
    message: str
    field: str | None = None


DocType = str  # "swift.mt103", "iso20022.pacs.008", "remittance_advice", "invoice", "unknown", ...


class Extraction(Model):
    source: str
    doc_type: DocType
    payment: Payment | None = None
    statement: Statement | None = None
    remittance: Remittance | None = None
    fields: list[ExtractedField] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    raw: dict[str, Any] | None = Field(default=None, exclude=True)  # parser-specific, not in JSON

    def to_json_dict(self) -> dict[str, Any]:
        return to_json_dict(self)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


Payment.model_rebuild()


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def to_json_dict(model: BaseModel) -> dict[str, Any]:
    """JSON-ready dict with absent values (None, empty lists and objects) omitted."""
    result: dict[str, Any] = _prune(model.model_dump(mode="json"))
    return result


def decimal_places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def amount_finding(amount: Decimal, currency: str | None, field: str) -> Finding | None:
    """A finding when ``amount`` has more decimals than ``currency`` allows (ISO 4217)."""
    if currency is None:
        return None
    allowed = minor_units(currency)
    if allowed is None:
        return Finding(
            code="CURRENCY_UNKNOWN",
            severity="error",
            field=field,
            message=f"{currency!r} is not an ISO 4217 currency code",
        )
    places = decimal_places(amount.normalize())  # trailing zeros do not count: 100.50 EUR is fine
    if places > allowed:
        return Finding(
            code="AMOUNT_DECIMALS",
            severity="error",
            field=field,
            message=f"{amount} {currency} has {places} decimals; {currency} allows {allowed}",
        )
    return None
