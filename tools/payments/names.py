"""Party-name comparison for beneficiary checks: fuzzy, but never fooled by look-alike characters.

``name_similarity(a, b)`` compares two names after folding case, accents, punctuation and legal
forms (GmbH, Ltd, SA, BV, ...). Unicode confusables (a Cyrillic "а" for a Latin "a", full-width
letters, zero-width characters) are mapped to Latin only to *detect* a spoof: a name containing
such characters scores at most 0.5 (well below any acceptance threshold), and one that matches the
reference only through them is flagged ``homoglyph``. Names written wholly in another script are
compared as they are.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

# Highest score a spoofed name may get: below every acceptance threshold the playbooks use (0.85).
HOMOGLYPH_SCORE_CAP = 0.5

# Cyrillic and Greek letters that render like Latin ones (subset of Unicode confusables.txt that
# matters for company names).
_CONFUSABLES: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ս": "u", "ո": "n",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "Ԁ": "D",
    "Ԛ": "Q", "Ԝ": "W", "Һ": "H", "Ӏ": "I",
    # Greek
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin look-alikes outside ASCII that NFKD does not fold
    "ı": "i", "ɑ": "a", "ɡ": "g", "ℓ": "l",
}  # fmt: skip
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"}

# Legal-form tokens, compared after dots and slashes are removed ("S.A." -> "sa", "A/S" -> "as").
_LEGAL_FORMS = {
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "ek", "ev", "eg", "co", "cokg",
    "ltd", "limited", "plc", "llp", "llc", "lp", "inc", "incorporated", "corp", "corporation",
    "company", "sa", "sas", "sasu", "sarl", "sca", "se", "snc", "bv", "nv", "vof", "cv", "bvba",
    "srl", "sprl", "asbl", "ab", "publ", "hb", "oy", "oyj", "as", "asa", "aps", "spa", "sapa",
    "sl", "slu", "sau", "sp", "zoo", "sro", "pty", "pte", "gesmbh", "kft", "zrt", "doo",
}  # fmt: skip
_AND = {"&": " and ", "+": " and "}
_AND_WORDS = {"und", "et", "en", "y", "e", "och", "og"}


@dataclass(frozen=True)
class NameCheck:
    """Outcome of comparing a candidate name with a reference name."""

    score: float  # 0..1; scaled by HOMOGLYPH_SCORE_CAP (so at most 0.5) when the candidate is suspicious
    homoglyph: bool  # the candidate matches only through look-alike characters
    suspicious_chars: tuple[str, ...]  # the look-alike or invisible characters found in the candidate


def suspicious_characters(name: str) -> tuple[str, ...]:
    """Characters that make a Latin-script name look like another: confusables from other scripts
    mixed into Latin text, compatibility forms (full-width letters) and invisible characters."""
    found: list[str] = []
    latin_letters = sum(1 for ch in name if ch.isalpha() and _is_latin(ch))
    for ch in name:
        confusable = ch in _CONFUSABLES and latin_letters > 0
        if ch in _INVISIBLE or confusable or _compatibility_form(ch):
            found.append(ch)
    return tuple(found)


def _compatibility_form(ch: str) -> bool:
    """Full-width, mathematical and other compatibility variants of letters and digits."""
    return ch.isalnum() and unicodedata.normalize("NFKC", ch) != unicodedata.normalize("NFC", ch)


def _is_latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN")


def skeleton(name: str) -> str:
    """Confusables folded to Latin, then :func:`normalise_name`. For detection only, never for accepting."""
    folded = "".join(_CONFUSABLES.get(ch, ch) for ch in name if ch not in _INVISIBLE)
    return normalise_name(unicodedata.normalize("NFKC", folded))


def normalise_name(name: str) -> str:
    """Case, accents, punctuation and legal forms folded away: "Müller & Söhne GmbH" -> "muller and sohne".

    Only canonical decomposition (NFD) is applied, so look-alike letters from other scripts stay
    different from their Latin twins.
    """
    text = unicodedata.normalize("NFD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("Æ", "AE")
    text = text.casefold()
    for symbol, word in _AND.items():
        text = text.replace(symbol, word)
    text = re.sub(r"[.'’/]", "", text)  # "S.A." -> "sa", "A/S" -> "as", "O'Neil" -> "oneil"
    tokens = [tok for tok in re.split(r"[\W_]+", text) if tok]
    tokens = ["and" if tok in _AND_WORDS else tok for tok in tokens]
    kept = [tok for tok in tokens if tok not in _LEGAL_FORMS]
    # A name that is nothing but legal forms ("AG") keeps them rather than becoming empty.
    return " ".join(kept or tokens)


def _raw_score(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a, b)) / 100.0


def name_similarity(candidate: str, reference: str) -> NameCheck:
    """Score ``candidate`` (from a message or document, untrusted) against ``reference`` (trusted).

    The score is symmetric in the text but only the candidate is checked for look-alike characters:
    the reference comes from our own data.
    """
    suspicious = suspicious_characters(candidate)
    score = _raw_score(normalise_name(candidate), normalise_name(reference))
    if not suspicious:
        return NameCheck(round(score, 3), False, ())
    spoof_score = _raw_score(skeleton(candidate), skeleton(reference))
    homoglyph = spoof_score > score or spoof_score >= 0.85
    # Scaled rather than clipped: the ranking among candidates survives, acceptance never does.
    return NameCheck(round(score * HOMOGLYPH_SCORE_CAP, 3), homoglyph, suspicious)
