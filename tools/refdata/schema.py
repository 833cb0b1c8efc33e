"""The reference-data records (contract: "Reference data"), validated with pydantic.

One model per record kind; :class:`RefDataFile` is the whole load file. Validators reject what a
repair must never rely on: bad IBAN checksums, malformed BICs, unknown currencies, amounts with more
decimals than the currency allows (JPY has none). Fields beyond the contract are optional.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from tools.messages.currencies import minor_units
from tools.payments.common import compact
from tools.payments.iban import iban_error

AccountStatus = Literal["open", "closed", "blocked"]

_BIC_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_UETR_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_ID = Field(min_length=1, max_length=64)
_NAME = Field(min_length=1, max_length=140)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _check_iban(value: str) -> str:
    iban = compact(value)
    reason = iban_error(iban)
    if reason:
        raise ValueError(reason)
    return iban


def _check_bic(value: str | None) -> str | None:
    if value is None:
        return None
    bic = compact(value)
    if not _BIC_RE.match(bic):
        raise ValueError("invalid BIC format")
    return bic


def _check_currency(value: str) -> str:
    code = value.upper()
    if minor_units(code) is None:
        raise ValueError(f"unknown currency code {value!r}")
    return code


def _check_country(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.upper()
    if not _COUNTRY_RE.match(code):
        raise ValueError("expected a two-letter ISO 3166 country code")
    return code


def _check_amount(amount: Decimal, info: ValidationInfo) -> Decimal:
    """Positive, and no more decimals than the record's currency allows (validated just before)."""
    if not amount.is_finite() or amount <= 0:
        raise ValueError("amount must be a positive decimal")
    currency = info.data.get("currency")
    places = minor_units(currency) if isinstance(currency, str) else None
    exponent = amount.normalize().as_tuple().exponent
    if places is not None and isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"{currency} allows {places} decimals")
    return amount


class Customer(Record):
    customer_id: str = _ID
    name: str = _NAME
    country: str | None = None
    address_lines: list[str] = Field(default_factory=list, max_length=7)

    _country = field_validator("country")(_check_country)


class Account(Record):
    customer_id: str = _ID
    iban: str
    bic: str | None = None
    currency: str
    status: AccountStatus = "open"

    _iban = field_validator("iban")(_check_iban)
    _bic = field_validator("bic")(_check_bic)
    _currency = field_validator("currency")(_check_currency)


class Ssi(Record):
    ssi_id: str = _ID
    customer_id: str = _ID
    beneficiary_name: str = _NAME
    iban: str
    bic: str | None = None
    currency: str
    address_lines: list[str] = Field(default_factory=list, max_length=7)
    country: str | None = None

    _iban = field_validator("iban")(_check_iban)
    _bic = field_validator("bic")(_check_bic)
    _currency = field_validator("currency")(_check_currency)
    _country = field_validator("country")(_check_country)


class OpenInvoice(Record):
    """An invoice the customer issued and has not been paid. ``discount_rate`` (e.g. "0.02") and
    ``discount_until`` are optional early-payment (skonto) terms."""

    invoice_number: str = _ID
    customer_id: str = _ID
    currency: str  # before ``amount``: the amount's validator reads it
    amount: Decimal
    due_date: date | None = None
    invoice_date: date | None = None
    debtor_name: str | None = None
    discount_rate: Decimal | None = Field(default=None, ge=0, lt=1)
    discount_until: date | None = None

    _currency = field_validator("currency")(_check_currency)
    _amount = field_validator("amount")(_check_amount)


class PaymentRecord(Record):
    """A recent payment, for duplicate detection and recalls. ``reference`` is its id."""

    reference: str = _ID
    uetr: str | None = None
    currency: str  # before ``amount``: the amount's validator reads it
    amount: Decimal
    value_date: date
    debtor_name: str | None = None
    creditor_name: str | None = None
    creditor_iban: str | None = None
    customer_id: str | None = None
    debtor_iban: str | None = None

    _currency = field_validator("currency")(_check_currency)
    _amount = field_validator("amount")(_check_amount)

    # Intended same shape as _check_country: each validator normalises and matches its own pattern.
    @field_validator("uetr")
    @classmethod
    def _uetr(cls, value: str | None) -> str | None:
        if value is None:
            return None
        uetr = value.lower()
        if not _UETR_RE.match(uetr):
            raise ValueError("UETR must be a UUID version 4")
        return uetr

    @field_validator("creditor_iban", "debtor_iban")
    @classmethod
    def _ibans(cls, value: str | None) -> str | None:
        return None if value is None else _check_iban(value)


class RefDataFile(Record):
    """A load file: every list optional, unknown top-level keys refused."""

    customers: list[Customer] = Field(default_factory=list)
    accounts: list[Account] = Field(default_factory=list)
    ssis: list[Ssi] = Field(default_factory=list)
    open_invoices: list[OpenInvoice] = Field(default_factory=list)
    payments: list[PaymentRecord] = Field(default_factory=list)
