"""Locale-aware normalisation of amounts, dates and currencies found in documents.

Contract: each ``parse_*`` function takes the raw text of one value and returns the normalised value
with a confidence in [0, 1], or ``None`` when the text is not such a value. Ambiguity (``1.234`` may
be one thousand two hundred and thirty-four or one point two three four; ``09/08/2022`` may be
8 September or 9 August) never fails: the most likely reading wins and the confidence drops.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from tools.messages.currencies import minor_units

# One amount token: optional sign, digits with optional grouping, optional decimals.
AMOUNT_RE = re.compile(
    r"(?<![\w.,])[-+\u2212]?"
    r"(?:\d{1,3}(?:[.,'\u2019](?=\d{3})\d{3})+(?:[.,]\d{1,2})?"  # grouped: 1.234,56 / 1,234.56 / 1'234
    r"|\d{1,3}(?:[ \u00a0\u202f]\d{3})+[.,]\d{2}"  # space-grouped needs decimals: 1 234,56
    r"|\d+[.,]\d{1,2}"  # plain with decimals: 1234,56
    r"|\d+)"  # bare integer
    r"(?![\w]|[.,]\d)"
)

CURRENCY_SYMBOLS = {
    "€": "EUR",
    "£": "GBP",
    "$": "USD",
    "US$": "USD",
    "CHF": "CHF",
    "¥": "JPY",
    "₹": "INR",
}
# Symbols that several currencies share: the reading is a guess, so the confidence drops.
AMBIGUOUS_SYMBOLS = {"$", "¥"}
# Rupees written as a word ("Rs 1939", "Rs.-40.00"): only right before a figure, since "Rs" is
# also a fragment of ordinary words. India's rupee is the one invoices mostly mean (Pakistan's, Sri
# Lanka's and Nepal's are written so too), so the reading is a guess.
_RUPEES = re.compile(r"(?<![A-Za-z])Rs\.?(?=\s?[-+\u2212]?\d)")
# Swiss francs written "Fr." or "SFr.": only before a figure ("Mo.-Fr. 8.30 Uhr" is Monday to Friday).
_FRANCS = re.compile(r"(?<![A-Za-z.\-])S?Fr\.\s?(?=\d)")
_WORD_SYMBOLS = ((_RUPEES, "INR", 0.8), (_FRANCS, "CHF", 0.9))
# A code right after a figure counts ("100EUR"), the branch code ending a BIC does not
# ("HELADEF1GEL" is a bank in Gelnhausen, not Georgian lari).
CURRENCY_CODE_RE = re.compile(r"(?<![A-Za-z])(?<![A-Z]{6}[A-Z0-9]{2})([A-Z]{3})(?![A-Za-z])")

MONTHS: dict[str, int] = {}
# Month names and abbreviations in en/de/fr/nl/es/it, as printed (accents included: the date
# pattern runs on the page's text) and folded (what a token is looked up by).
for _number, _names in enumerate(
    [
        "january jan januar jänner janv janvier januari enero ene gennaio",
        "february feb februar févr fév février februari febrero febbraio",
        "march mar märz mars maart marzo mrt",
        "april apr avril avr abril aprile",
        "may mai mei mayo maggio mag",
        "june jun juni juin junio giugno giu",
        "july jul juli juillet juil julio luglio lug",
        "august aug août augustus agosto ago",
        "september sep sept septembre setiembre septiembre settembre",
        "october oct oktober octobre okt octubre ottobre ott",
        "november nov novembre noviembre",
        "december dec dez dezember décembre déc diciembre dic dicembre",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number
        MONTHS[unicodedata.normalize("NFKD", _name).encode("ascii", "ignore").decode()] = _number

_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
# A year OCR split after its third digit ("05.03.201 3"): no date has a three-digit year.
_NUMERIC_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{3} \d|\d{2})"
# A day may carry an ordinal suffix ("3rd", French "1er"); PDF text often holds a space before a
# comma ("August 3 , 2014": the comma is drawn as its own glyph run).
_DAY = r"\d{1,2}(?:st|nd|rd|th|er)?"
_TEXT_DATE = (
    rf"{_DAY}\.?\s*(?:de\s+|of\s+)?(?:{_MONTH_ALT})\.?\s*(?:de\s+)?,?\s*\d{{4}}"
    rf"|(?:{_MONTH_ALT})\.?\s+{_DAY}(?:\s*,\s*|\s+)\d{{4}}"  # "April 16, 2023", OCR's "April 16,2023"
)
DATE_RE = re.compile(rf"(?<![\w])(?:{_NUMERIC_DATE}|{_TEXT_DATE})(?![\w])", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case, accent-free text for matching labels (OCR often drops accents)."""
    if text.isascii():
        return text.lower()  # NFKD leaves ASCII alone, and casefold is lower() there
    return _fold_word(text) if len(text) <= 40 else _fold(text)


class _Marks(dict[int, int | None]):
    """A ``str.translate`` table that drops combining marks: each code point is looked up in
    ``unicodedata`` the first time it is met (None: a mark, dropped; else kept as it is) and
    remembered below U+3000 (the scripts invoices are written in, marks included), so the table
    stays small whatever text arrives."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if code < 0x3000:
            self[code] = kept
        return kept


_MARKS = _Marks()


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).translate(_MARKS).casefold()


# Every word of every page is folded, and the same words recur across pages and documents.
_fold_word = functools.lru_cache(maxsize=1 << 14)(_fold)


def one_letter_off(key: str, words: Iterable[str]) -> list[str]:
    """The ``words`` of ``key``'s length that differ from it in exactly one letter: what OCR
    makes of a word when it misreads one glyph ("Räufer" for "Käufer")."""
    return [w for w in words if len(w) == len(key) and sum(a != b for a, b in zip(w, key, strict=True)) == 1]


@dataclass(frozen=True)
class Parsed:
    value: object
    confidence: float
    span: tuple[int, int]  # where in the input text the value was found


def parse_amount(text: str, decimal_hint: str | None = None) -> Parsed | None:
    """The first amount in ``text`` as a ``Decimal``.

    ``decimal_hint`` ("," or ".") is the document's usual decimal separator; it settles readings
    such as ``1.234`` that the token alone cannot.
    """
    for match in AMOUNT_RE.finditer(text):
        result = _amount_token(match.group(0), decimal_hint)
        if result is not None:
            value, confidence = result
            return Parsed(value, confidence, match.span())
    return None


def find_amounts(text: str, decimal_hint: str | None = None) -> list[Parsed]:
    found = []
    for match in AMOUNT_RE.finditer(text):
        result = _amount_token(match.group(0), decimal_hint)
        if result is not None:
            found.append(Parsed(result[0], result[1], match.span()))
    return found


def _amount_token(token: str, decimal_hint: str | None) -> tuple[Decimal, float] | None:
    sign = -1 if token[:1] in "-\u2212" else 1
    body = token.lstrip("+-\u2212").replace("\u00a0", " ").replace("\u202f", " ").replace("\u2019", "'")
    body = body.replace(" ", "").replace("'", "")
    confidence = 1.0
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        decimal_sep = "," if body.rfind(",") > body.rfind(".") else "."
    elif commas or dots:
        sep = "," if commas else "."
        tail = body.rsplit(sep, 1)[1]
        if (commas or dots) > 1:
            decimal_sep = ""  # repeated separator: grouping only
        elif len(tail) == 3:
            # 1.234 / 1,234: grouping unless the document says otherwise; a guess either way.
            decimal_sep = sep if decimal_hint == sep else ""
            confidence = 0.7
        else:
            decimal_sep = sep
            if decimal_hint and decimal_hint != sep:
                confidence = 0.85
    else:
        decimal_sep = ""
    group_sep = {"": "", ",": ".", ".": ","}[decimal_sep]
    if group_sep:
        body = body.replace(group_sep, "")
    body = body.replace(",", "").replace(".", "") if not decimal_sep else body.replace(decimal_sep, ".")
    try:
        return Decimal(body) * sign, confidence
    except InvalidOperation:
        return None


def parse_date(text: str, order: str | None = None) -> Parsed | None:
    """The first date in ``text``.

    ``order`` ("DMY" or "MDY") is the document's numeric date order, used when both the day and the
    month could be either; without it, day-first wins, at a lower confidence.
    """
    for match in DATE_RE.finditer(text):
        result = _date_token(match.group(0), order)
        if result is not None:
            return Parsed(result[0], result[1], match.span())
    return None


def numeric_order_evidence(text: str) -> str | None:
    """``MDY`` or ``DMY`` when some numeric date in ``text`` can only be read one way."""
    votes = {"DMY": 0, "MDY": 0}
    for match in re.finditer(r"(?<!\d)(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?!\d)", text):
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second >= 1:
            votes["DMY"] += 1
        elif second > 12 >= first >= 1:
            votes["MDY"] += 1
    if votes["DMY"] == votes["MDY"]:
        return None
    return "DMY" if votes["DMY"] > votes["MDY"] else "MDY"


def _year(raw: str) -> int:
    year = int(raw)
    return year + 2000 if year < 100 else year


def _date_token(token: str, order: str | None) -> tuple[date, float] | None:
    token = token.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", token)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3))), 1.0
        numeric = re.fullmatch(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})", token.replace(" ", ""))
        if numeric:
            first, second, year = int(numeric.group(1)), int(numeric.group(3)), _year(numeric.group(4))
            confidence = 1.0 if len(numeric.group(4)) == 4 else 0.9
            if first > 12:
                return date(year, second, first), confidence
            if second > 12:
                return date(year, first, second), confidence
            if first == second:
                return date(year, first, second), confidence
            if order == "MDY":
                return date(year, first, second), confidence * 0.8
            # Day-first is the reading in every language here but US English.
            return date(year, second, first), confidence * (0.8 if order == "DMY" else 0.6)
        folded = fold(token)
        words = re.findall(r"[a-z]+|\d+", folded)
        numbers = [int(w) for w in words if w.isdigit()]
        month = next((MONTHS[w] for w in words if w in MONTHS), None)
        if month is None or len(numbers) != 2:
            return None
        day, year = (numbers[0], numbers[1]) if numbers[1] > 31 else (numbers[1], numbers[0])
        return date(year, month, day), 1.0
    except ValueError:
        return None


def parse_currency(text: str) -> Parsed | None:
    """An ISO 4217 code or a currency symbol in ``text``; a shared symbol ($) lowers confidence."""
    for match in CURRENCY_CODE_RE.finditer(text):
        if minor_units(match.group(1)) is not None:
            return Parsed(match.group(1), 1.0, match.span())
    for symbol, code in CURRENCY_SYMBOLS.items():
        index = text.find(symbol)
        if index >= 0:
            confidence = 0.8 if symbol in AMBIGUOUS_SYMBOLS else 0.95
            return Parsed(code, confidence, (index, index + len(symbol)))
    for pattern, code, confidence in _WORD_SYMBOLS:
        found = pattern.search(text)
        if found is not None:
            return Parsed(code, confidence, found.span())
    return None


def mentioned_currencies(text: str) -> set[str]:
    """Every ISO 4217 code or unambiguous symbol the text mentions."""
    found = {m.group(1) for m in CURRENCY_CODE_RE.finditer(text) if minor_units(m.group(1)) is not None}
    found.update(code for symbol, code in CURRENCY_SYMBOLS.items() if symbol in text)
    found.update(code for pattern, code, _ in _WORD_SYMBOLS if pattern.search(text))
    return found


def currency_mentions(text: str) -> dict[str, tuple[int, int]]:
    """Each currency the text mentions (ISO 4217 code or symbol) with (times mentioned, first
    position): the document's currency, when no label or total names one, is the most mentioned,
    the first mentioned among equals."""
    found: dict[str, tuple[int, int]] = {}

    def add(code: str, position: int) -> None:
        count, first = found.get(code, (0, position))
        found[code] = (count + 1, min(first, position))

    for match in CURRENCY_CODE_RE.finditer(text):
        if minor_units(match.group(1)) is not None:
            add(match.group(1), match.start())
    for symbol, code in CURRENCY_SYMBOLS.items():
        for match in re.finditer(re.escape(symbol), text):
            add(code, match.start())
    for pattern, code, _ in _WORD_SYMBOLS:
        for match in pattern.finditer(text):
            add(code, match.start())
    return found
