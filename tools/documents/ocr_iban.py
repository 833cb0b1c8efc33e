"""IBANs as OCR and careless layouts print them, read by the country's format and the checksum.

Contract: :func:`spread_iban` finds an IBAN whose groups are not the usual fours ("DE 1276040061076236
1400"): a country code and check digits, then exactly the country's BBAN length of characters
across single spaces, ending at a word's end. :func:`repair_iban` mends an OCR'd IBAN: glyphs read
as their look-alikes ("O" for "0" where the country's format wants a figure, "0" for "O" where it
wants a letter) and, when the reading is one character too long, a glyph read twice or a space
read as a letter ("NL50OINGBO683251309"). Both answer only what schwifty then validates (length,
format, checksum, national checks); a deletion is taken only where exactly one position gives a
valid IBAN, so a near miss is never guessed into another account.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from tools.documents.swift_scan import ocr_digits, ocr_letters
from tools.payments.iban import iban_error

# A country code and two check digits as OCR may read them ("DEO8", "DE 12"), at a word's start.
_HEAD = re.compile(r"(?<![A-Z0-9])([A-Z]{2}) ?([0-9OQDILSBZG]{2})(?= ?[A-Z0-9])")
_FORMAT = re.compile(r"(\d+)!([nac])")


@cache
def _bban_format(country: str) -> str | None:
    """One class per BBAN position ("n" figure, "a" capital, "c" either), or None for a country
    without IBANs."""
    from schwifty import registry

    try:
        spec: Any = registry.get_iban_spec(country)
    except Exception:  # schwifty: an unknown country code
        return None
    return "".join(kind * int(count) for count, kind in _FORMAT.findall(spec.bban_spec)) or None


def _coerce(country: str, bban: str) -> str | None:
    """``bban`` with each look-alike glyph turned into the class its position wants."""
    classes = _bban_format(country)
    if classes is None or len(classes) != len(bban):
        return None
    out = []
    for kind, char in zip(classes, bban, strict=True):
        if kind == "n" and not char.isdigit():
            char = ocr_digits(char)
        elif kind == "a" and not char.isalpha():
            char = ocr_letters(char)
        out.append(char)
    return "".join(out)


def _valid(iban: str) -> bool:
    return iban_error(iban) is None


def spread_iban(text: str, *, ocr: bool) -> tuple[str, int, int] | None:
    """(IBAN, start, end) of the first IBAN in upper-case ``text`` printed in irregular groups;
    with ``ocr``, look-alike glyphs are read by the country's format."""
    for head in _HEAD.finditer(text):
        country, check = head.group(1), head.group(2)
        classes = _bban_format(country)
        if classes is None or (not ocr and not check.isdigit()):
            continue
        chars: list[str] = []
        position = head.end()
        while position < len(text) and len(chars) < len(classes):
            char = text[position]
            if char == " " and position + 1 < len(text) and text[position + 1] != " ":
                position += 1
                continue
            if not char.isalnum():
                break
            chars.append(char)
            position += 1
        if len(chars) != len(classes) or (position < len(text) and text[position].isalnum()):
            continue
        bban = _coerce(country, "".join(chars)) if ocr else "".join(chars)
        iban = f"{country}{ocr_digits(check)}{bban}" if bban is not None else None
        if iban is not None and _valid(iban):
            return iban, head.start(), position
    return None


def repair_iban(compact: str) -> str | None:
    """The valid IBAN an OCR'd reading ``compact`` (no spaces, upper case) stands for, or None."""
    country, check, bban = compact[:2], ocr_digits(compact[2:4]), compact[4:]
    classes = _bban_format(country)
    if classes is None:
        return None
    coerced = _coerce(country, bban)
    if coerced is not None:
        return f"{country}{check}{coerced}" if _valid(f"{country}{check}{coerced}") else None
    if len(bban) != len(classes) + 1:
        return None
    found = set()
    for i in range(len(bban)):
        shorter = _coerce(country, bban[:i] + bban[i + 1 :])
        if shorter is not None and _valid(f"{country}{check}{shorter}"):
            found.add(f"{country}{check}{shorter}")
    return found.pop() if len(found) == 1 else None
