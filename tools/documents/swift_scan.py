"""Printed or scanned SWIFT FIN messages: spot them, repair OCR confusions, hand over to the MT parser.

Contract: :func:`looks_like_fin` says whether OCR'd text is a FIN message; :func:`repair_fin` returns
the repaired text and one ``OCR_CORRECTION`` finding per change. Repairs are limited to what SWIFT
field formats make unambiguous: digits where only digits are allowed (tags, dates, amounts), letters
where only letters are (currency codes, the bank and country code of a BIC), and IBANs whose checksum
one O/0, I/1, S/5 or B/8 swap restores; stray spaces after ``:`` and ``,`` go too.
"""

from __future__ import annotations

import re

from tools.messages.model import Finding

_TO_DIGIT = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "I": "1",
        "l": "1",
        "|": "1",
        "i": "1",
        "S": "5",
        "s": "5",
        "B": "8",
        "Z": "2",
        "G": "6",
    }
)
_TO_LETTER = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G"})
_SWAPS = {"O": "0", "0": "O", "I": "1", "1": "I", "S": "5", "5": "S", "B": "8", "8": "B"}
_BIC_TAGS = {"51A", "52A", "53A", "54A", "55A", "56A", "57A", "58A", "82A", "83A", "84A", "85A", "87A", "88A"}
_TAG_LINE = re.compile(r"^[:;.]\s*([0-9OIlSB]{2}[A-Za-z0-9]?)\s*[:;]\s*(.*)$")
# OCR reads a tag's leading colon as ">", "7", "!" or "|" too; then only a known tag counts.
_LOOSE_TAG_LINE = re.compile(r"^[>7!|'\"]\s*(\d{2}[A-Z]?)\s*[:;]\s*(.*)$")
_KNOWN_TAGS = {
    "11S",
    "13C",
    "20",
    "21",
    "23B",
    "23E",
    "25",
    "26T",
    "28C",
    "32A",
    "32B",
    "33B",
    "36",
    "50A",
    "50F",
    "50K",
    "51A",
    "52A",
    "52D",
    "53A",
    "53B",
    "53D",
    "54A",
    "54D",
    "55A",
    "56A",
    "56C",
    "56D",
    "57A",
    "57B",
    "57C",
    "57D",
    "58A",
    "58D",
    "59",
    "59A",
    "59F",
    "60F",
    "60M",
    "61",
    "62F",
    "62M",
    "64",
    "65",
    "70",
    "71A",
    "71F",
    "71G",
    "72",
    "77B",
    "77T",
    "79",
    "86",
    "90C",
    "90D",
}


def looks_like_fin(text: str) -> bool:
    tags = re.findall(r"(?m)^\s*[:;]\s*\d{2}[A-Z]?\s*[:;]", text)
    return bool(re.search(r"\{\s*[124]\s*:", text)) or len(tags) >= 3


def ocr_digits(value: str) -> str:
    return value.translate(_TO_DIGIT)


def ocr_letters(value: str) -> str:
    return value.upper().translate(_TO_LETTER)


def fix_bic(value: str) -> str:
    """Bank and country code are letters; location and branch are letters or digits."""
    value = value.replace(" ", "")
    if len(value) not in (8, 11, 12):
        return value
    return ocr_letters(value[:6]) + value[6:].upper()


def fix_iban(value: str) -> str:
    from tools.payments.iban import iban_error

    compact = value.replace(" ", "").upper()
    if len(compact) < 15 or (not compact[:2].isalpha() and not compact[:2].translate(_TO_LETTER).isalpha()):
        return value
    candidate = ocr_letters(compact[:2]) + ocr_digits(compact[2:4]) + compact[4:]

    def valid(text: str) -> bool:
        return iban_error(text) is None

    if valid(candidate):
        return candidate
    for i in range(4, len(candidate)):
        swapped = _SWAPS.get(candidate[i])
        if swapped:
            trial = candidate[:i] + swapped + candidate[i + 1 :]
            if valid(trial):
                return trial
    # OCR sometimes reads one glyph as two ("8" as "S8"): try dropping one character.
    for i in range(2, len(candidate)):
        trial = candidate[:i] + candidate[i + 1 :]
        if valid(trial):
            return trial
    return candidate if candidate != compact else value


def _fix_value(tag: str, value: str) -> str:
    value = re.sub(r"\s*([:,])\s*", r"\1", value) if tag in {"32A", "33B", "71F", "71G", "32B"} else value
    if tag == "32A":
        match = re.match(r"^(\S{6})\s*(\S{3})\s*([\dOoIlSB,.\s]+)$", value)
        if match:
            return (
                ocr_digits(match.group(1))
                + ocr_letters(match.group(2))
                + ocr_digits(match.group(3)).replace(" ", "")
            )
    if tag in {"33B", "32B", "71F", "71G"}:
        match = re.match(r"^(\S{3})\s*([\dOoIlSB,.\s]+)$", value)
        if match:
            return ocr_letters(match.group(1)) + ocr_digits(match.group(2)).replace(" ", "")
    if tag == "36":
        return ocr_digits(value).replace(" ", "")
    return value


def _fix_block2(match: re.Match[str]) -> str:
    """Application header {2:I103<12-character address><priority>}: upper case only, so when OCR
    adds characters, the lower-case ones it added are the ones to drop."""
    direction = "O" if match[1] in "O0" else "I"
    body = match[3].replace(" ", "")
    if direction == "I" and len(body) > 13:
        extra = [c for c in body if c.islower()]
        if len(body) - len(extra) in (12, 13):
            body = "".join(c for c in body if not c.islower())
    body = body.upper()
    return f"{{2:{direction}{match[2]}" + fix_bic(body[:12]) + body[12:] + "}"


def repair_fin(text: str) -> tuple[str, list[Finding]]:
    findings: list[Finding] = []
    out: list[str] = []
    tag = ""

    def note(line_no: int, before: str, after: str) -> None:
        if before != after:
            findings.append(
                Finding(
                    code="OCR_CORRECTION",
                    severity="info",
                    field=tag or None,
                    message=f"line {line_no}: OCR read {before!r}, repaired to {after!r}",
                )
            )

    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        fixed = re.sub(r"^[\(\[]\s*([1-5])\s*[:;]", r"{\1:", line)
        fixed = re.sub(r"\}\s+\{", "}{", fixed)
        fixed = re.sub(r"[\)\]]$", "}", fixed) if fixed.startswith("{") else fixed
        fixed = re.sub(r"\{1:F0?1([A-Z0-9 ]{12})", lambda m: "{1:F01" + fix_bic(m.group(1)), fixed)
        fixed = re.sub(r"\{2:\s*([IO1l0])\s*(\d{3})\s*([A-Za-z0-9 ]+)\}", _fix_block2, fixed)
        tag_match = _TAG_LINE.match(fixed)
        if tag_match is None:
            loose = _LOOSE_TAG_LINE.match(fixed)
            tag_match = loose if loose and loose.group(1) in _KNOWN_TAGS else None
        if tag_match:
            raw_tag = tag_match.group(1)
            tag = ocr_digits(raw_tag[:2]) + raw_tag[2:].upper()
            if len(tag) == 3 and tag[2].isdigit():
                tag = tag[:2] + tag[2].translate(_TO_LETTER)
            value = _fix_value(tag, tag_match.group(2).strip())
            if tag in _BIC_TAGS and not value.startswith("/"):
                value = fix_bic(value.lstrip("!|'\" "))
            if tag in {"50K", "59", "50A", "59A", "57A"} and value.startswith("/"):
                value = "/" + fix_iban(value[1:])
            fixed = f":{tag}:{value}"
        elif tag in _BIC_TAGS and re.fullmatch(r"[A-Z0-9]{8}(?:[A-Z0-9]{3})?", fixed):
            fixed = fix_bic(fixed)
        note(line_no, line, fixed)
        out.append(fixed)
    return "\n".join(out), findings
