"""IBAN validation and BIC derivation with schwifty's IBAN and bank registries."""

from __future__ import annotations

from typing import Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from tools.payments.common import compact, normalise_bic, text_arg


def iban_error(value: str) -> str | None:
    """Why ``value`` (compact form) is not a valid IBAN, or None when it is."""
    try:
        IBAN(value)
    except SchwiftyException as exc:
        return _describe(exc)
    return None


def _describe(exc: SchwiftyException) -> str:
    name = type(exc).__name__
    reasons = {
        "InvalidChecksumDigits": "invalid IBAN checksum",
        "InvalidLength": "invalid IBAN length",
        "InvalidCountryCode": "unknown IBAN country code",
        "InvalidStructure": "invalid IBAN structure",
        "InvalidBBANChecksum": "invalid national (BBAN) checksum",
        "InvalidBankCode": "unknown bank code",
    }
    return reasons.get(name, str(exc) or name)


def validate_iban(iban: str) -> dict[str, Any]:
    """Validate an IBAN and derive its bank.

    Result: ``valid``, ``iban`` (compact, upper-case), ``country``, ``bank_code``, ``bic`` (derived
    from the bank code through schwifty's registry, compact form, or None), ``bank_name``,
    ``error`` (None when valid), ``ref`` = ``iban:<IBAN>``. Invalid input is a result with
    ``valid: false``, never an exception; a non-string argument raises ``ValidationError``.
    """
    value = compact(text_arg(iban, "iban", max_len=64))
    result: dict[str, Any] = {
        "valid": False,
        "iban": value,
        "country": value[:2] if value[:2].isalpha() else None,
        "bank_code": None,
        "bic": None,
        "bank_name": None,
        "error": None,
        "ref": f"iban:{value}",
    }
    if not value:
        result["error"] = "empty IBAN"
        return result
    try:
        parsed = IBAN(value)
    except SchwiftyException as exc:
        result["error"] = _describe(exc)
        return result
    result.update(valid=True, country=parsed.country_code, bank_code=parsed.bank_code or None)
    try:
        bic = parsed.bic
        bank = parsed.bank
    except SchwiftyException:
        bic, bank = None, None
    if bic is not None:
        result["bic"] = normalise_bic(str(bic))
    if bank is not None:
        result["bank_name"] = bank.name
    return result
