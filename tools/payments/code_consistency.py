"""Does the evidence contradict the reason code the workflow system sent?

Why: a repair procedure trusts its code. Sent the wrong one (a duplicate as RR03, a closed account as
BE04), it finds something to "fix" and proposes a confident wrong repair. This module reads evidence
the agent already has or gets from read-only tools (parse findings, the duplicate search, the
creditor account's status, the payment's parties, the case's free text) and names every
contradiction between that evidence and the code. Only codes whose procedure may change the payment
(:data:`REPAIR_FAMILIES`) can be contradicted: for the others a wrong code costs a wrong non-change,
which an analyst sees, never a wrong release.

Text is untrusted, and here it can only *raise* a doubt (escalate), never make a repair happen.

:func:`check_code` is pure; the classify node gathers the evidence and records the verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# Codes whose procedures repair, by the part of the payment they repair.
REPAIR_FAMILIES: dict[str, frozenset[str]] = {
    "creditor_account": frozenset({"AC01", "AC02", "AC03", "AC04", "AC06", "AG01"}),
    "creditor_agent": frozenset({"RC01", "FF01"}),
    "creditor_party": frozenset({"BE04", "RR03", "BE01"}),
    "debtor_party": frozenset({"RR02"}),
}
ACCOUNT_NUMBER_CODES = frozenset({"AC01", "AC02", "AC03"})
ACCOUNT_STATUS_CODES = frozenset({"AC04", "AC06", "AG01"})
IBAN_FINDINGS = frozenset({"IBAN_CHECKSUM", "IBAN_FORMAT", "IBAN_LENGTH", "IBAN_COUNTRY", "ACCOUNT_FORMAT"})
# What a sure reading of the case's text may point to that no repair procedure handles.
NON_REPAIR_READINGS = frozenset({"RECALL_REQUEST", "AM05", "DUPL", "INVESTIGATION_QUERY", "UNAPPLIED_CASH"})
RECALL_DOC_TYPES = ("camt.056", "mt192", "mt292", "recall")


def family_of(code: str) -> str | None:
    return next((name for name, codes in REPAIR_FAMILIES.items() if code in codes), None)


@dataclass
class Evidence:
    """What the agent knows about the case, read-only, before any procedure runs."""

    findings: Sequence[Mapping[str, Any]] = field(default_factory=list)
    payment: Mapping[str, Any] | None = None
    duplicates: Mapping[str, Any] | None = None  # find_duplicates result
    account: Mapping[str, Any] | None = None  # lookup_account result for the creditor IBAN
    debtor_account: Mapping[str, Any] | None = None  # lookup_account result for the debtor IBAN
    iban_bic: str | None = None  # the BIC the creditor IBAN's bank code gives (validate_iban)
    account_holder: str | None = None  # the name of the customer who holds the creditor account
    document_types: list[str] = field(default_factory=list)
    text_codes: list[str] = field(default_factory=list)  # codes the free text points to (rules, classifier)


# Codes that name one kind of fault: evidence for one is evidence for all of its group.
AGREEING: tuple[frozenset[str], ...] = (
    frozenset({"AC01", "AC02", "AC03"}),
    frozenset({"AC04"}),
    frozenset({"AC06", "AG01"}),
    frozenset({"RC01", "FF01"}),
    frozenset({"BE04", "RR03"}),
    frozenset({"BE01"}),
    frozenset({"RR02"}),
    # a payment made twice and the cancellation reasons a recall of it carries
    frozenset({"AM05", "DUPL", "RECALL_REQUEST", "CUST", "TECH", "FRAD"}),
)
NAME_MISMATCH_BELOW = 0.6


@dataclass
class Verdict:
    code: str
    checked: bool  # the code is a repair code, so the evidence was weighed against it
    contradictions: list[str] = field(default_factory=list)
    supports: list[str] = field(default_factory=list)
    evidence_codes: list[str] = field(default_factory=list)  # what the evidence alone points to

    @property
    def agrees(self) -> bool:
        """The evidence points (also) to the code's own kind of fault."""
        group = next((g for g in AGREEING if self.code in g), frozenset({self.code}))
        return bool(group & set(self.evidence_codes))

    @property
    def consistent(self) -> bool:
        return not self.contradictions

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "consistent": self.consistent, "agrees": self.agrees}


def _error_codes(findings: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str(f.get("code", "")).upper() for f in findings if f.get("severity") == "error"}


def _has_party(party: Mapping[str, Any] | None) -> bool:
    return bool(party and party.get("name") and party.get("address_lines"))


def _status(account: Mapping[str, Any] | None) -> str | None:
    return str(account.get("status")) if account and account.get("found") else None


def _agent_checks(code: str, evidence: Evidence, verdict: Verdict) -> None:
    """A bank-identifier code needs a creditor agent BIC, and one of another bank than the IBAN's."""
    bic = str(((evidence.payment or {}).get("creditor_agent") or {}).get("bic") or "").upper()
    if not bic:
        verdict.contradictions.append(f"the payment names no creditor agent BIC for {code} to be wrong")
    elif evidence.iban_bic and bic[:8] == evidence.iban_bic.upper()[:8]:
        verdict.contradictions.append(f"the creditor agent BIC {bic} is the bank of the creditor IBAN")
    else:
        verdict.supports.append("creditor agent BIC differs from the IBAN's bank")


def _name_mismatch(evidence: Evidence) -> bool:
    from tools.payments.names import name_similarity

    name = str(((evidence.payment or {}).get("creditor") or {}).get("name") or "")
    if not (name and evidence.account_holder):
        return False
    return name_similarity(name, evidence.account_holder).score < NAME_MISMATCH_BELOW


def _name_variant(evidence: Evidence) -> bool:
    """The creditor name is close to the account holder's but not as held: the fault BE01 repairs."""
    name = " ".join(str(((evidence.payment or {}).get("creditor") or {}).get("name") or "").split())
    holder = " ".join(str(evidence.account_holder or "").split())
    return bool(name and holder) and name != holder and not _name_mismatch(evidence)


def evidence_codes(evidence: Evidence, finding_codes: Mapping[str, str]) -> list[str]:
    """The codes the evidence alone points to (no reason code consulted)."""
    codes = {finding_codes[c] for c in _error_codes(evidence.findings) if c in finding_codes}
    if (evidence.duplicates or {}).get("found"):
        codes.add("AM05")
    if any(any(t in kind.lower() for t in RECALL_DOC_TYPES) for kind in evidence.document_types):
        codes.add("RECALL_REQUEST")
    status = _status(evidence.account)
    codes |= {"AC04"} if status == "closed" else {"AC06"} if status == "blocked" else set()
    bic = str(((evidence.payment or {}).get("creditor_agent") or {}).get("bic") or "").upper()
    if bic and evidence.iban_bic and bic[:8] != evidence.iban_bic.upper()[:8]:
        codes.add("RC01")
    if _name_mismatch(evidence) or _name_variant(evidence):
        codes.add("BE01")
    if (evidence.payment or {}).get("debtor") and not _has_party((evidence.payment or {}).get("debtor")):
        codes.add("RR02")
    return sorted(codes | set(evidence.text_codes))


def check_code(code: str, evidence: Evidence, finding_codes: Mapping[str, str] | None = None) -> Verdict:
    """The contradictions (and supports) between ``code`` and ``evidence``."""
    family = family_of(code)
    verdict = Verdict(code=code, checked=family is not None)
    verdict.evidence_codes = evidence_codes(evidence, finding_codes or {})
    errors = _error_codes(evidence.findings)
    duplicates = evidence.duplicates or {}
    account = evidence.account or {}
    status = _status(account)
    debtor_status = _status(evidence.debtor_account)
    payment = evidence.payment or {}
    recall_doc = any(any(t in kind.lower() for t in RECALL_DOC_TYPES) for kind in evidence.document_types)
    if family is None:
        return verdict
    if duplicates.get("found"):
        first = (duplicates.get("duplicates") or [{}])[0]
        verdict.contradictions.append(
            f"the payment duplicates {first.get('reference', 'an earlier payment')} "
            f"(match on {first.get('match', 'fields')}, {first.get('days_apart')} days apart); "
            "a possible duplicate is looked at before anything is repaired"
        )
    if recall_doc:
        verdict.contradictions.append("a recall request is attached; a recalled payment is not repaired")
    for reading in sorted(set(evidence.text_codes) & NON_REPAIR_READINGS):
        verdict.contradictions.append(f"the case's text points to {reading}, which no repair resolves")
    iban_errors = sorted(errors & IBAN_FINDINGS)
    if iban_errors and code not in ACCOUNT_NUMBER_CODES:
        verdict.contradictions.append(
            f"the creditor IBAN fails {', '.join(iban_errors)}: the fault is the account number, not {code}"
        )
    elif iban_errors:
        verdict.supports.append(f"creditor IBAN fails {', '.join(iban_errors)}")
    if status in ("closed", "blocked"):
        if family != "creditor_account":
            verdict.contradictions.append(
                f"the creditor account is {status}: the fault is the account, not {code}"
            )
        else:
            verdict.supports.append(f"creditor account is {status}")
    elif status == "open" and code in ACCOUNT_STATUS_CODES:
        verdict.contradictions.append(f"the creditor account is open, which {code} says it is not")
    if debtor_status in ("closed", "blocked") and family != "debtor_party":
        verdict.contradictions.append(
            f"the debtor account is {debtor_status}: the payment cannot be repaired"
        )
    if family == "creditor_agent" and payment:  # no parsed payment: nothing to weigh the BIC against
        _agent_checks(code, evidence, verdict)
    else:
        bic = str((payment.get("creditor_agent") or {}).get("bic") or "").upper()
        if bic and evidence.iban_bic and bic[:8] != evidence.iban_bic.upper()[:8]:
            verdict.contradictions.append(
                f"the creditor agent BIC {bic} is not the IBAN's bank ({evidence.iban_bic}): "
                "the fault is the BIC"
            )
    debtor_complete = _has_party(payment.get("debtor"))
    if code == "RR02" and debtor_complete:
        verdict.contradictions.append(
            "the debtor's name and address are present, which RR02 says are missing"
        )
    if code in ("BE04", "RR03") and _name_mismatch(evidence):
        verdict.contradictions.append(
            f"the creditor name does not match the account holder {evidence.account_holder!r}: "
            "the fault is the name"
        )
    elif code in ("BE04", "RR03") and _name_variant(evidence):
        # two faults in one party: repairing the address alone would release a name not as held
        verdict.contradictions.append(
            f"the creditor name is not the account holder's name as held ({evidence.account_holder!r}): "
            f"{code} or BE01 is ambiguous"
        )
    if family == "creditor_party" and payment.get("debtor") and not debtor_complete:
        verdict.contradictions.append(f"the debtor's address is missing too: {code} or RR02 is ambiguous")
    return verdict
