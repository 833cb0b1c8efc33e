"""Value checks shared by the FIN readers: SWIFT X character set, IBAN and BIC (through ``schwifty``).

Each check appends findings to a :class:`Collector` and never raises. Registry look-ups are cached:
the same BIC or IBAN recurs across messages and schwifty's checks are pure functions of the value.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tools.messages.swift.builder import Collector

# SWIFT "X" character set: a-z A-Z 0-9 / - ? : ( ) . , ' + space, and line breaks.
NOT_X = re.compile(r"[^A-Za-z0-9/\-?:().,'+ \n]")
X_BYTES = bytes(c for c in range(128) if not NOT_X.match(chr(c)))  # the same set, as ASCII bytes
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_BIC_SHAPE = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
# A country counts as covered by schwifty's bank registry when it lists at least this many BICs;
# below that the registry is a sample and absence says nothing.
_MIN_REGISTRY_BICS = 10


def iban_candidate(account: str) -> str | None:
    """The account, spaces removed, when it has the shape of an IBAN of an IBAN country."""
    compact = account.replace(" ", "").upper()
    if _IBAN_SHAPE.fullmatch(compact) and _is_iban_country(compact[:2]):
        return compact
    return None


@lru_cache(maxsize=512)
def _is_iban_country(country: str) -> bool:
    from schwifty import registry
    from schwifty.exceptions import SchwiftyException

    try:
        spec = registry.get_iban_spec(country)
    except (SchwiftyException, KeyError):
        return False
    return not spec.aspirational


@lru_cache(maxsize=8192)
def _iban_problem(iban: str) -> tuple[str, str] | None:
    from schwifty import IBAN
    from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException

    try:
        IBAN(iban)
    except InvalidChecksumDigits:
        return "IBAN_CHECKSUM", f"IBAN {iban} fails the mod-97 checksum"
    except SchwiftyException as exc:
        return "IBAN_FORMAT", f"IBAN {iban} does not match its country's format: {exc}"
    return None


def check_iban(iban: str, field: str, out: Collector) -> None:
    problem = _iban_problem(iban)
    if problem is not None:
        out.finding(problem[0], "error", problem[1], field)


@lru_cache(maxsize=1)
def _covered_countries() -> frozenset[str]:
    from schwifty import registry

    counts: dict[str, int] = {}
    for bank in registry.get_all_banks():
        if bank.bic:
            counts[bank.country_code] = counts.get(bank.country_code, 0) + 1
    return frozenset(c for c, n in counts.items() if n >= _MIN_REGISTRY_BICS)


@lru_cache(maxsize=8192)
def _bic_problem(bic: str) -> tuple[str, str, str] | None:
    from schwifty import BIC, registry
    from schwifty.exceptions import SchwiftyException

    if not _BIC_SHAPE.fullmatch(bic):
        return "BIC_INVALID", "error", f"{bic!r} is not a BIC (4 letters, country, location, [branch])"
    try:
        BIC(bic)
    except SchwiftyException as exc:
        return "BIC_INVALID", "error", f"{bic!r} is not a valid BIC: {exc}"
    country = bic[4:6]
    if country in _covered_countries():
        head = bic[:8]
        candidates = {bic, head, head + "XXX"}
        if not any(registry.get_banks_by_bic(c) for c in candidates):
            return "BIC_UNKNOWN", "warning", f"BIC {bic} is not in the bank registry for {country}"
    return None


def check_bic(bic: str, field: str, out: Collector) -> None:
    problem = _bic_problem(bic)
    if problem is not None:
        out.finding(problem[0], problem[1], problem[2], field)
