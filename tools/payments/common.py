"""Argument parsing shared by the evidence functions: amounts, currencies, dates, BICs, IBAN text.

Every parser raises :class:`tools.errors.ValidationError` naming the argument and the reason, so a
tool fed garbage fails with a typed error instead of a traceback.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tools.errors import ValidationError
from tools.messages.currencies import minor_units

_BIC_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_MAX_TEXT = 1000  # longest free-text argument we look at; longer input is refused, not truncated


def text_arg(value: Any, name: str, *, max_len: int = _MAX_TEXT) -> str:
    """A stripped string argument; ``ValidationError`` when it is not a string or is too long."""
    if not isinstance(value, str):
        raise ValidationError(f"expected a string, got {type(value).__name__}", source=name)
    if len(value) > max_len:
        raise ValidationError(f"longer than {max_len} characters", source=name)
    return value.strip()


def currency_arg(value: Any, name: str = "currency") -> str:
    """An ISO 4217 code, upper-cased."""
    code = text_arg(value, name, max_len=8).upper()
    if minor_units(code) is None:
        raise ValidationError(f"unknown currency code {code!r}", source=name)
    return code


def amount_arg(value: Any, name: str = "amount") -> Decimal:
    """A finite decimal amount from a string, int or Decimal ("6740.91"; a comma is not a separator)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValidationError(f"expected a decimal amount, got {type(value).__name__}", source=name)
    raw = value.strip() if isinstance(value, str) else str(value)
    if len(raw) > 40:
        raise ValidationError("amount too long", source=name)
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(f"not a decimal amount: {raw!r}", source=name) from None
    if not amount.is_finite():
        raise ValidationError(f"not a finite amount: {raw!r}", source=name)
    # ISO 20022 amounts have at most 18 digits; anything bigger is noise, and would overflow quantize.
    if amount and amount.adjusted() > 17:
        raise ValidationError(f"amount too large: {raw!r}", source=name)
    return amount


def to_minor(amount: Decimal, currency: str) -> int:
    """Amount in minor units (cents); raises when it has more decimals than the currency allows."""
    digits = minor_units(currency)
    places = 2 if digits is None else digits
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValidationError(f"{amount} has more than {places} decimals for {currency}", source="amount")
    return int(scaled)


def format_amount(amount: Decimal, currency: str) -> str:
    """The canonical text of an amount: exactly the currency's decimals ("1000.00", JPY "5000")."""
    digits = minor_units(currency)
    places = 2 if digits is None else digits
    return f"{amount.quantize(Decimal(1).scaleb(-places)):f}"


def date_arg(value: Any, name: str) -> date:
    """An ISO date (``YYYY-MM-DD``, a longer timestamp is cut to its date) or a ``date``, in the
    years 1900-2999: payment dates outside that are typos, and date arithmetic on them overflows."""
    if isinstance(value, date):
        day = value
    else:
        raw = text_arg(value, name, max_len=32)
        try:
            day = date.fromisoformat(raw[:10]) if len(raw) >= 10 else date.fromisoformat(raw)
        except ValueError:
            raise ValidationError(f"not an ISO date: {raw!r}", source=name) from None
    if not 1900 <= day.year <= 2999:
        raise ValidationError(f"date out of range: {day.isoformat()}", source=name)
    return day


def compact(value: str) -> str:
    """IBAN/BIC text without spaces, dashes or dots, upper-cased ("de89 3704..." -> "DE893704...")."""
    return re.sub(r"[\s\-.]", "", value).upper()


def normalise_bic(value: Any, name: str = "bic") -> str | None:
    """The BIC in compact form (8 characters for a head office, ``XXX`` branch dropped), or None
    when the text is not BIC-shaped. Only the shape is checked here; existence is the registry's job."""
    raw = compact(text_arg(value, name, max_len=64))
    if not _BIC_RE.match(raw):
        return None
    return raw[:8] if raw.endswith("XXX") and len(raw) == 11 else raw
