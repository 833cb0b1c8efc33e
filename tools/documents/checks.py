"""Consistency checks on an extracted remittance: findings plus confidence adjustments.

Contract: :func:`check_remittance` returns findings and a ``{field name: factor}`` map; a factor above
1 confirms a field (confidence raised, capped at 1), below 1 casts doubt on it.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tools.messages.model import Finding, Remittance


def check_iban(iban: str) -> Finding | None:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", iban):
        return Finding(
            code="IBAN_FORMAT",
            severity="warning",
            field="remittance.iban",
            message=f"account {iban!r} is not in IBAN form (it may be a domestic account number)",
        )
    try:
        IBAN(iban)
    except SchwiftyException as exc:
        return Finding(
            code="IBAN_CHECKSUM", severity="error", field="remittance.iban", message=f"{iban}: {exc}"
        )
    return None


def check_bic(bic: str) -> Finding | None:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    try:
        BIC(bic)
    except SchwiftyException as exc:
        return Finding(code="BIC_FORMAT", severity="error", field="remittance.bic", message=f"{bic}: {exc}")
    return None


def check_remittance(
    remittance: Remittance, mentioned: set[str], sum_lines: bool
) -> tuple[list[Finding], dict[str, float]]:
    findings: list[Finding] = []
    factors: dict[str, float] = {}
    if remittance.iban:
        finding = check_iban(remittance.iban)
        if finding:
            findings.append(finding)
        factors["remittance.iban"] = 0.5 if finding else 1.1
    if remittance.bic:
        finding = check_bic(remittance.bic)
        if finding:
            findings.append(finding)
        factors["remittance.bic"] = 0.5 if finding else 1.05
    if remittance.currency and mentioned and remittance.currency not in mentioned:
        findings.append(
            Finding(
                code="CURRENCY_NOT_IN_DOCUMENT",
                severity="warning",
                field="remittance.currency",
                message=(
                    f"{remittance.currency} is not mentioned in the document ({', '.join(sorted(mentioned))})"
                ),
            )
        )
        factors["remittance.currency"] = 0.6
    if sum_lines and remittance.lines and remittance.total_amount is not None:
        paid = [line.net_amount if line.net_amount is not None else line.amount for line in remittance.lines]
        if all(p is not None for p in paid):
            total = sum((p for p in paid if p is not None), Decimal(0))
            if total == remittance.total_amount:
                factors["remittance.total_amount"] = 1.1
                factors["remittance.lines"] = 1.1
            else:
                findings.append(
                    Finding(
                        code="LINES_TOTAL_MISMATCH",
                        severity="warning",
                        field="remittance.total_amount",
                        message=(
                            f"line items add up to {total}, the document's total is {remittance.total_amount}"
                        ),
                    )
                )
                factors["remittance.total_amount"] = 0.7
                factors["remittance.lines"] = 0.7
    return findings, factors
