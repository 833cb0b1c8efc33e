"""Tokenisation for BM25 and recognition of codes in text.

Contract: :func:`tokenize` lower-cases, keeps payment identifiers whole ("AC04" -> ``ac04``,
"camt.056" -> ``camt.056`` plus ``camt`` and ``056``, "57A" -> ``57a``, "MT103" -> ``mt103`` plus
``103`` so that "MT 103" and "103" match too), drops a short stop-word list and strips common English
suffixes ("closed", "closing", "closes" -> ``clos``) so inflections meet. The same function must
be used on documents and queries.

:func:`codes_in` finds exception codes named in a query: upper-case words that are known codes
(``CUST``, ``DUPL``) and, in any case, letter-digit words that are known codes (``ac04``).
:func:`message_types_in` finds message types ("MT103", "mt 202 cov", "pacs.008", "camt.056").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Module regexes: alike in shape to other modules' constants, not shared logic.
_TOKEN = re.compile(r"[a-z0-9]+(?:[._/][a-z0-9]+)*")
_MT = re.compile(r"^(mt|mx)(\d{3})([a-z]*)$")
_HAS_DIGIT = re.compile(r"\d")
_CAMEL = re.compile(r"\b[A-Z]?[a-z]+(?:[A-Z][a-z]+)+\b")
_CAMEL_PART = re.compile(r"[A-Z]?[a-z]+")
_HYPHENATED = re.compile(r"\b[a-z]+(?:-[a-z]+)+\b")
_WORD = re.compile(r"[A-Za-z0-9_]+")
_MESSAGE_TYPE = re.compile(
    r"\b(?:(MT|MX)\s?(\d{3})(\s?COV)?|(pacs|camt|pain|acmt|admi)\.(\d{3})(?:\.\d{3}\.\d{2})?)\b", re.I
)

_STOPWORD_TEXT = (
    "a an and are as at be by do does for from has have how i if in into is it its me my of on or so "
    "such that the their them then there these they this to was we what when where which who why will "
    "with you your can should would shall may must not no yes"
)
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())


def stem(token: str) -> str:
    """A light suffix stripper (not Porter): enough for plurals and -ed/-ing forms of jargon."""
    if _HAS_DIGIT.search(token) or len(token) <= 3:
        return token
    for suffix, replacement, min_len in (
        ("ies", "y", 5),
        ("sses", "ss", 5),
        ("ing", "", 6),
        ("ed", "", 5),
        ("ly", "", 6),
        ("s", "", 4),
    ):
        if token.endswith(suffix) and len(token) >= min_len:
            if suffix == "s" and token.endswith(("ss", "us", "is")):
                break
            token = token[: len(token) - len(suffix)] + replacement
            break
    # "charge", "charged" and "charging" all end as "charg".
    if token.endswith("e") and len(token) > 4:
        token = token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """BM25 tokens of ``text`` (see the module docstring)."""
    out: list[str] = []
    # ISO code names are CamelCase ("NoAgreement", "ClosedAccountNumber"): their words count too.
    for word in _CAMEL.findall(text):
        words = [p.lower() for p in _CAMEL_PART.findall(word)]
        out.extend(stem(p) for p in words if p not in STOPWORDS)
    # "e-mail", "cut-off", "end-to-end" also meet "email", "cutoff", "endtoend".
    for compound in _HYPHENATED.findall(text.lower()):
        out.append(stem(compound.replace("-", "")))
    for raw in _TOKEN.findall(text.lower()):
        if raw in STOPWORDS:
            continue
        out.append(stem(raw))
        mt = _MT.match(raw)
        if mt:
            out.append(mt.group(2))
        elif "." in raw or "/" in raw or "_" in raw:
            parts = re.split(r"[._/]", raw)
            if "." in raw and raw.count(".") >= 2:
                # "pacs.008.001.08" also matches a document that says "pacs.008".
                out.append(".".join(raw.split(".")[:2]))
            out.extend(stem(part) for part in parts if part and part not in STOPWORDS)
    return out


def codes_in(text: str, known: Iterable[str] | frozenset[str]) -> list[str]:
    """Known exception codes named in ``text``, in order of appearance, without repeats."""
    known_set = known if isinstance(known, frozenset) else frozenset(known)
    found: list[str] = []
    for word in _WORD.findall(text):
        upper = word.upper()
        # Lower-case words count only when they carry a digit: "cust" may be an abbreviation, "ac04" not.
        if upper in known_set and (word.isupper() or _HAS_DIGIT.search(word)) and upper not in found:
            found.append(upper)
    return found


def normalise_message_type(value: str) -> str:
    """Canonical form of a message type: ``mt103``, ``mt202cov``, ``pacs.008``, ``camt.056``."""
    match = _MESSAGE_TYPE.search(value)
    if not match:
        return value.strip().lower().replace(" ", "")
    if match.group(2):
        return f"{match.group(1).lower()}{match.group(2)}{'cov' if match.group(3) else ''}"
    return f"{match.group(4).lower()}.{match.group(5)}"


def message_types_in(text: str) -> list[str]:
    """Message types named in ``text``, normalised (see :func:`normalise_message_type`)."""
    found: list[str] = []
    for match in _MESSAGE_TYPE.finditer(text):
        value = normalise_message_type(match.group(0))
        if value not in found:
            found.append(value)
    return found
