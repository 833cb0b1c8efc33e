"""Message-level validation: character set, simple field formats, mandatory fields, network rules.

The network rules are a subset of the SWIFT MT103/MT202 network validated rules (error codes in
brackets in each message): C1 33B/36 (D75), C2 33B for EU/EEA sender and receiver (D49), C3 23B vs
23E (E01/E02), C4 55a needs 53a and 54a (E06), C5 56a needs 57a (E81), C6 23B vs 56a (E16/E17),
C7 71A vs 71F/71G (E13/D50/E15), C8 71F/71G need 33B (D51), C9 CHQB and the beneficiary account
(E18), and the STP and REMIT usage rules keyed by block-3 field 119.

Contract: every function appends findings and never raises.
"""

from __future__ import annotations

import re

from tools.messages.swift.blocks import RawField
from tools.messages.swift.builder import Collector
from tools.messages.swift.checks import NOT_X as _NOT_X
from tools.messages.swift.checks import X_BYTES

# Mandatory fields (by tag number, option letters accepted) per message type.
MANDATORY: dict[str, tuple[str, ...]] = {
    "103": ("20", "23B", "32A", "50", "59", "71A"),
    "202": ("20", "21", "32A", "58"),
    "205": ("20", "21", "32A", "52", "58"),
    "900": ("20", "21", "25", "32A"),
    "910": ("20", "21", "25", "32A"),
    "940": ("20", "25", "28C", "60", "62"),
    "950": ("20", "25", "28C", "60", "62"),
    "942": ("20", "25", "28C", "34F", "13D"),
}
for _family in "12345678":
    MANDATORY[f"{_family}99"] = ("20", "79")
    MANDATORY[f"{_family}92"] = ("20", "21", "11S")
    MANDATORY[f"{_family}95"] = ("20", "21")
    MANDATORY[f"{_family}96"] = ("20", "21", "76")

# Canonical path a finding on a field points at, by tag (or tag number), per kind of message.
_PAYMENT_PATHS = {
    "20": "payment.reference",
    "21": "payment.related_reference",
    "23B": "payment.bank_operation_code",
    "23E": "payment.instruction_codes",
    "26T": "payment.purpose",
    "32A": "payment.amount",
    "33B": "payment.instructed_amount",
    "36": "payment.exchange_rate",
    "50": "payment.debtor",
    "51": "payment.instructing_agent",
    "52": "payment.debtor_agent",
    "53": "payment.senders_correspondent",
    "54": "payment.receivers_correspondent",
    "56": "payment.intermediary_agent",
    "57": "payment.creditor_agent",
    "59": "payment.creditor",
    "70": "payment.remittance_information",
    "71A": "payment.charge_bearer",
    "71F": "payment.charges",
    "71G": "payment.charges",
    "72": "payment.sender_to_receiver_information",
    "77B": "payment.regulatory_reporting",
    "75": "payment.narrative",
    "76": "payment.narrative",
    "77A": "payment.narrative",
    "79": "payment.narrative",
}
# MT202/205 (pacs.009 meaning): the ordering and beneficiary institutions are debtor and creditor.
_FI_PATHS = {
    **_PAYMENT_PATHS,
    "52": "payment.debtor",
    "58": "payment.creditor",
    "50": "payment.ultimate_debtor",
    "59": "payment.ultimate_creditor",
}
_STATEMENT_PATHS = {
    "20": "statement.reference",
    "21": "statement.related_reference",
    "25": "statement.account",
    "28": "statement.statement_id",
    "28C": "statement.statement_id",
    "60": "statement.balances",
    "62": "statement.balances",
    "64": "statement.balances",
    "65": "statement.balances",
    "61": "statement.entries",
    "86": "statement.entries",
    "13D": "statement.created_at",
}
_PATHS = {"payment": _PAYMENT_PATHS, "fi": _FI_PATHS, "statement": _STATEMENT_PATHS}
# Field formats checked by pattern; the mapped fields (32A, 33B, parties, ...) check themselves.
_FORMATS: dict[str, re.Pattern[str]] = {
    "20": re.compile(r"[^\n]{1,16}"),
    "21": re.compile(r"[^\n]{1,16}"),
    "23B": re.compile(r"[A-Z0-9]{4}"),
    "23E": re.compile(r"[A-Z0-9]{4}(?:/[^\n]{1,30})?"),
    "26T": re.compile(r"[A-Z0-9]{3}"),
    "71A": re.compile(r"OUR|BEN|SHA"),
    "13C": re.compile(r"/[A-Z]{1,8}/\d{4}[+-]\d{4}"),
    "28C": re.compile(r"\d{1,5}(?:/\d{1,5})?"),
}
_BANK_OPERATION_CODES = frozenset({"CRED", "CRTS", "SPAY", "SPRI", "SSTD"})
_SPRI_23E = frozenset({"SDVA", "TELB", "PHOB", "INTC"})
# Countries of EU/EEA rule D49 (SEPA area incl. overseas territories, as in the SWIFT list).
_EU_EEA = frozenset(
    "AD AT BE BG BV CH CY CZ DE DK EE ES FI FR GB GF GI GP GR HR HU IE IS IT LI LT LU LV MC MQ MT NL NO "  # noqa: SIM905
    "PL PM PT RE RO SE SI SJ SK SM TF VA".split()
)
_STP_PATHS = {
    "52": "payment.debtor_agent",
    "53": "payment.senders_correspondent",
    "54": "payment.receivers_correspondent",
    "55": "payment.receivers_correspondent",
    "56": "payment.intermediary_agent",
    "57": "payment.creditor_agent",
}
# Narrative fields that may carry the wider Z character set, or binary-ish trailers: no X check.
_NO_CHARSET_CHECK = frozenset({"77T", "NS"})


def _path(tag: str, kind: str) -> str:
    """Canonical path for a field of a ``kind`` ("payment", "fi" or "statement") message."""
    paths = _PATHS.get(kind, _PAYMENT_PATHS)
    return paths.get(tag) or paths.get(tag[:2]) or f"fin.{tag}"


def check_fields(fields: list[RawField], kind: str, out: Collector) -> None:
    """Charset and simple format checks on each field."""
    # One look at all the values (a newline joins them: it is in the X set) finds nothing outside X
    # in the usual message, and then the per-field charset check is left out. X is ASCII: deleting
    # its bytes leaves nothing unless something is outside it (faster than the pattern's search).
    joined = "\n".join([f.value for f in fields])
    charset = not joined.isascii() or bool(joined.encode("ascii").translate(None, X_BYTES))
    formats = _FORMATS
    for f in fields:
        tag = f.tag
        if charset and tag not in _NO_CHARSET_CHECK:
            bad = _NOT_X.search(f.value)
            if bad is not None:
                out.finding(
                    "CHARSET",
                    "error",
                    f"field {tag} holds {bad.group(0)!r}, outside the SWIFT X character set",
                    _path(tag, kind),
                )
        if tag not in formats:
            continue
        value = f.value
        if not formats[tag].fullmatch(value.strip()):
            out.finding(
                "FIELD_FORMAT",
                "error",
                f"field {tag}: {value[:40]!r} does not match its format",
                _path(tag, kind),
            )
        if (tag == "20" or tag == "21") and (value.startswith("/") or value.endswith("/") or "//" in value):
            out.finding(
                "FIELD_FORMAT",
                "error",
                f"field {tag} must not start or end with '/' nor contain '//' (T26)",
                _path(tag, kind),
            )


def check_mandatory(
    message_type: str,
    fields: list[RawField],
    kind: str,
    out: Collector,
    tags: dict[str, list[RawField]] | None = None,
) -> None:
    """Findings for the mandatory fields of ``message_type`` that are missing (``tags``: the fields
    by tag and tag number, :func:`field_index`, when the caller has it already)."""
    required = MANDATORY.get(message_type)
    if not required:
        return
    present = tags if tags is not None else field_index(fields)
    for tag in required:
        if tag not in present:
            if tag == "79" and message_type.endswith("99") and "77E" in present:
                continue
            out.finding(
                "MANDATORY_FIELD", "error", f"MT{message_type} requires field {tag}", _path(tag, kind)
            )


def field_index(fields: list[RawField]) -> dict[str, list[RawField]]:
    """The fields by tag number (``"50"``) and, for tags with an option letter, by tag (``"50K"``)."""
    by_tag: dict[str, list[RawField]] = {}
    for f in fields:
        tag = f.tag
        num = tag[:2]
        if num in by_tag:
            by_tag[num].append(f)
        else:
            by_tag[num] = [f]
        if tag != num:  # a three-character tag (tags have two or three)
            if tag in by_tag:
                by_tag[tag].append(f)
            else:
                by_tag[tag] = [f]
    return by_tag


def check_mt103(
    fields: list[RawField],
    flag: str | None,
    sender_bic: str | None,
    receiver_bic: str | None,
    out: Collector,
    tags: dict[str, list[RawField]] | None = None,
) -> None:
    """The MT103 network validated rules listed in the module docstring."""
    if tags is None:
        tags = field_index(fields)

    ccy32 = tags["32A"][0].value.strip()[6:9] if "32A" in tags else ""
    ccy33 = tags["33B"][0].value.strip()[:3] if "33B" in tags else ""
    has36 = "36" in tags
    if ccy33 and ccy33 != ccy32 and not has36:
        out.finding(
            "NETWORK_RULE_C1",
            "error",
            "33B currency differs from 32A: field 36 (exchange rate) is mandatory (D75)",
            "payment.exchange_rate",
        )
    if has36 and (not ccy33 or ccy33 == ccy32):
        out.finding(
            "NETWORK_RULE_C1",
            "error",
            "field 36 is allowed only with a 33B in a currency other than 32A's (D75)",
            "payment.exchange_rate",
        )
    if (
        sender_bic
        and receiver_bic
        and sender_bic[4:6] in _EU_EEA
        and receiver_bic[4:6] in _EU_EEA
        and "33B" not in tags
    ):
        out.finding(
            "NETWORK_RULE_C2",
            "error",
            "sender and receiver are both in the EU/EEA: field 33B is mandatory (D49)",
            "payment.instructed_amount",
        )
    b23 = tags["23B"][0].value.strip() if "23B" in tags else None
    codes23e = [f.value.strip()[:4] for f in tags["23E"]] if "23E" in tags else []
    if b23 is not None and b23 not in _BANK_OPERATION_CODES:
        out.finding(
            "FIELD_FORMAT",
            "error",
            f"23B {b23!r} is not CRED, CRTS, SPAY, SPRI or SSTD",
            "payment.bank_operation_code",
        )
    if b23 == "SPRI" and any(c not in _SPRI_23E for c in codes23e):
        out.finding(
            "NETWORK_RULE_C3",
            "error",
            "with 23B SPRI, 23E may only be SDVA, TELB, PHOB or INTC (E01)",
            "payment.instruction_codes",
        )
    if b23 in ("SSTD", "SPAY") and codes23e:
        out.finding(
            "NETWORK_RULE_C3",
            "error",
            f"with 23B {b23}, field 23E is not allowed (E02)",
            "payment.instruction_codes",
        )
    if "55" in tags and not ("53" in tags and "54" in tags):
        out.finding(
            "NETWORK_RULE_C4",
            "error",
            "field 55a requires both 53a and 54a (E06)",
            "payment.senders_correspondent",
        )
    if "56" in tags and "57" not in tags:
        out.finding(
            "NETWORK_RULE_C5", "error", "field 56a requires field 57a (E81)", "payment.creditor_agent"
        )
    if "56" in tags and b23 == "SPRI":
        out.finding(
            "NETWORK_RULE_C6",
            "error",
            "with 23B SPRI, field 56a is not allowed (E16)",
            "payment.intermediary_agent",
        )
    if b23 in ("SSTD", "SPAY") and any(f.tag not in ("56A", "56C") for f in tags.get("56", [])):
        out.finding(
            "NETWORK_RULE_C6",
            "error",
            f"with 23B {b23}, field 56a must be option A or C (E17)",
            "payment.intermediary_agent",
        )
    _charges_rules(tags["71A"][0].value.strip() if "71A" in tags else None, tags, out)
    if "CHQB" in codes23e:
        beneficiary = tags.get("59", [])
        if beneficiary and beneficiary[0].value.startswith("/"):
            out.finding(
                "NETWORK_RULE_C9",
                "error",
                "with 23E CHQB the beneficiary (59a) must not have an account (E18)",
                "payment.creditor.account",
            )
    _usage_rules(flag, tags, out)


def _charges_rules(bearer: str | None, tags: dict[str, list[RawField]], out: Collector) -> None:
    has71f, has71g = "71F" in tags, "71G" in tags
    if bearer == "OUR" and has71f:
        out.finding(
            "NETWORK_RULE_C7", "error", "with 71A OUR, field 71F is not allowed (E13)", "payment.charges"
        )
    if bearer == "SHA" and has71g:
        out.finding(
            "NETWORK_RULE_C7", "error", "with 71A SHA, field 71G is not allowed (D50)", "payment.charges"
        )
    if bearer == "BEN" and not has71f:
        out.finding(
            "NETWORK_RULE_C7", "error", "with 71A BEN, at least one 71F is mandatory (E15)", "payment.charges"
        )
    if bearer == "BEN" and has71g:
        out.finding(
            "NETWORK_RULE_C7", "error", "with 71A BEN, field 71G is not allowed (E15)", "payment.charges"
        )
    if (has71f or has71g) and "33B" not in tags:
        out.finding(
            "NETWORK_RULE_C8",
            "error",
            "fields 71F/71G require field 33B (D51)",
            "payment.instructed_amount",
        )


def _usage_rules(flag: str | None, tags: dict[str, list[RawField]], out: Collector) -> None:
    if flag == "STP":
        allowed: dict[str, tuple[str, ...]] = {"52": ("52A",), "53": ("53A", "53B"), "54": ("54A",)}
        allowed.update({"55": ("55A",), "56": ("56A",), "57": ("57A",)})
        for number, options in allowed.items():
            for f in tags.get(number, []):
                if f.tag not in options:
                    out.finding(
                        "NETWORK_RULE_STP",
                        "error",
                        f"MT103 STP allows field {number} only as {'/'.join(options)}, not {f.tag}",
                        _STP_PATHS[number],
                    )
        for f in tags.get("23E", []):
            if f.value.strip()[:4] not in {"CORT", "INTC", "SDVA", "REPA"}:
                out.finding(
                    "NETWORK_RULE_STP",
                    "error",
                    f"MT103 STP allows 23E CORT, INTC, SDVA or REPA only, not {f.value[:4]!r}",
                    "payment.instruction_codes",
                )
    elif flag == "REMIT":
        if "77T" not in tags:
            out.finding(
                "NETWORK_RULE_REMIT",
                "error",
                "MT103 REMIT requires field 77T",
                "payment.remittance_information",
            )
        if "70" in tags:
            out.finding(
                "NETWORK_RULE_REMIT",
                "error",
                "MT103 REMIT does not allow field 70",
                "payment.remittance_information",
            )


def check_mt202(
    fields: list[RawField], out: Collector, tags: dict[str, list[RawField]] | None = None
) -> None:
    if tags is None:
        tags = field_index(fields)
    if "56" in tags and "57" not in tags:
        out.finding(
            "NETWORK_RULE_C1", "error", "field 56a requires field 57a (C81)", "payment.creditor_agent"
        )
