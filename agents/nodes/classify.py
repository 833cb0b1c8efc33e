"""classify: the exception code and a confidence.

A code the workflow system gave and the reason-code reference knows is kept (confidence 0.99 when a
procedure claims it, 0.9 otherwise). ``UNKNOWN``, an absent or an unrecognised code is classified
from the message's findings (strongest signal), the attached documents and the case's free text:
the notes plus the narrative of attached MT199/MT299 and camt messages. The text is read by the
narrative classifier (:mod:`tools.payments.narrative`, a logistic head on MiniLM embeddings) when
its artefact is present and it is sure (probability and margin), and always by the keyword rules
below (the fallback). Text is untrusted, but what it says only chooses which procedure gathers
evidence; it can never supply a value. Nothing recognisable leaves the case ``UNKNOWN``
(confidence 0), which the planner escalates.

Every code, given or classified, is then checked against the evidence
(:mod:`tools.payments.code_consistency`: findings, the duplicate search, the creditor account's
status, the parties, the text). A contradiction lowers the confidence to
:data:`CONTRADICTED_CONFIDENCE` and is recorded as ``consistency``; ``verify`` escalates such a
case instead of running a repair procedure on a code the evidence does not bear out.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from langgraph.runtime import Runtime

from agents.context import Context
from agents.nodes.common import toolbox_of
from agents.state import TriageState
from agents.toolbox import Toolbox
from tools.errors import RepairDeskError
from tools.payments.code_consistency import Evidence, check_code
from tools.payments.narrative import NONE, default_classifier

# Finding codes of the parsers -> the exception code they point to.
FINDING_CODES: dict[str, str] = {
    "IBAN_CHECKSUM": "AC01",
    "IBAN_FORMAT": "AC01",
    "IBAN_LENGTH": "AC01",
    "IBAN_COUNTRY": "AC01",
    "ACCOUNT_FORMAT": "AC01",
    "BIC_FORMAT": "RC01",
    "BIC_INVALID": "RC01",
    "BIC_UNKNOWN": "RC01",
    "CREDITOR_NAME_MISSING": "RR03",
    "CREDITOR_ADDRESS_MISSING": "BE04",
    "DUPLICATE": "AM05",
}
# Keywords in notes (and document kinds) -> the exception code, with a weight.
# A table: its rows are alike by design.
KEYWORDS: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(r"\b(recall|cancel(l?ation)?|camt\.056|mt192)\b", re.I), "RECALL_REQUEST", 1.0),
    (re.compile(r"\b(duplicat\w*|paid twice|double payment|sent twice)\b", re.I), "AM05", 1.0),
    (re.compile(r"\b(closed account|account (is |was )?closed)\b", re.I), "AC04", 1.0),
    (
        re.compile(r"\b(wrong|invalid|incorrect) (iban|account)\b|\biban\b.*\b(invalid|checksum)", re.I),
        "AC01",
        0.9,
    ),
    (re.compile(r"\b(wrong|invalid|incorrect|unknown) (bic|bank)\b", re.I), "RC01", 0.9),
    (re.compile(r"\b(missing|no) (creditor |beneficiary )?address\b", re.I), "BE04", 0.9),
    (re.compile(r"\b(missing|no) (creditor |beneficiary )?name\b", re.I), "RR03", 0.9),
    # A name that does not belong to the account (BE01, Confirmation/Verification of Payee "no match").
    (
        re.compile(
            r"\bname\b[^.;]{0,60}\b(does not|doesn'?t|did not|not) match|\bname mismatch\b"
            r"|\binconsistent with (the )?(end customer|account)\b",
            re.I,
        ),
        "BE01",
        1.0,
    ),
    (
        re.compile(r"\b(unapplied|suspense|cannot (be )?appl\w+|unidentified (payment|receipt))\b", re.I),
        "UNAPPLIED_CASH",
        0.9,
    ),
    (
        re.compile(r"\b(remittance|short[- ]?paid|underpa\w+|invoice mismatch|does not match)\b", re.I),
        "REMITTANCE_MISMATCH",
        0.8,
    ),
    (
        re.compile(r"\b(not received|where is|status of|trace|investigat\w+|mt199|camt\.02[67])\b", re.I),
        "INVESTIGATION_QUERY",
        0.8,
    ),
)


TEXT_WEIGHT = 1.2  # a sure reading outweighs a weak keyword, not a strong one, never an error finding (2.0)
TEXT_MIN_PROBABILITY = 0.45
TEXT_MIN_MARGIN = 0.15
_NARRATIVE_KEYS = ("narrative", "sender_to_receiver_information", "additional_information")


def narrative_text(notes: str, documents: list[dict[str, Any]]) -> str:
    """The case's free text: notes, then each attached message's narrative lines."""
    parts = [notes.strip()] if notes.strip() else []
    for document in documents:
        payment = document.get("payment") or {}
        for key in _NARRATIVE_KEYS:
            value = payment.get(key)
            lines = value if isinstance(value, list) else [value] if isinstance(value, str) else []
            parts.extend(str(line).strip() for line in lines if str(line).strip())
    return " ".join(parts)[:2000]


class TextClassifier(Protocol):
    def rank(self, text: str) -> list[tuple[str, float]]: ...


class _ReadOnce:
    """The classifier with each text embedded once: one triage reads the same narrative for the
    code (unknown code), the consistency evidence, the calibrator's features and the evidence-only
    code, and every reading costs a MiniLM pass."""

    def __init__(self, inner: TextClassifier) -> None:
        self.inner = inner
        self._ranked: dict[str, list[tuple[str, float]]] = {}

    def rank(self, text: str) -> list[tuple[str, float]]:
        if text not in self._ranked:
            self._ranked[text] = self.inner.rank(text)
        return self._ranked[text]


def _reader_for(notes: str, documents: list[dict[str, Any]]) -> TextClassifier | None:
    """The narrative classifier when there is text to read (only then is its embedding model loaded)."""
    if not narrative_text(notes, documents):
        return None
    classifier = default_classifier()
    return _ReadOnce(classifier) if classifier is not None else None


def _read_text(classifier: TextClassifier | None, text: str) -> tuple[str, float] | None:
    """The classifier's label when it is sure, else None (then only the keyword rules count)."""
    if classifier is None or not text:
        return None
    ranked = classifier.rank(text)
    if not ranked:
        return None
    label, top = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if label == NONE or top < TEXT_MIN_PROBABILITY or top - runner_up < TEXT_MIN_MARGIN:
        return None
    return label, top


def classify_unknown(
    findings: list[dict[str, Any]],
    documents: list[dict[str, Any]],
    notes: str,
    classifier: TextClassifier | None = None,
) -> tuple[str, float, list[str]]:
    """The most likely code from findings, documents and free text: (code, confidence, reasons)."""
    scores: dict[str, float] = {}
    reasons: list[str] = []
    text = narrative_text(notes, documents)
    for finding in findings:
        code = FINDING_CODES.get(str(finding.get("code", "")).upper())
        if code and finding.get("severity") == "error":
            scores[code] = scores.get(code, 0.0) + 2.0
            reasons.append(f"finding {finding.get('code')}")
    if any(d.get("remittance") for d in documents):
        scores["REMITTANCE_MISMATCH"] = scores.get("REMITTANCE_MISMATCH", 0.0) + 0.6
        reasons.append("remittance document attached")
    reading = _read_text(classifier, text)
    if reading is not None:
        label, probability = reading
        scores[label] = scores.get(label, 0.0) + TEXT_WEIGHT * probability
        reasons.append(f"text classifier reads {label} (p={probability:.2f})")
    for pattern, code, weight in KEYWORDS:
        match = pattern.search(text)
        if match:
            scores[code] = scores.get(code, 0.0) + weight
            reasons.append(f"text mentions {match.group(0)!r}")
    if not scores:
        return "UNKNOWN", 0.0, ["nothing recognisable in findings, documents or notes"]
    (best, top), *rest = sorted(scores.items(), key=lambda item: -item[1])
    runner_up = rest[0][1] if rest else 0.0
    # Confidence grows with the margin over the runner-up; keyword evidence never exceeds 0.85.
    confidence = min(0.85, 0.5 + 0.35 * (top - runner_up) / max(top, 1.0))
    return best, round(confidence, 2), reasons


def _known(code: str) -> bool:
    from tools.retrieval.codes import known_codes

    try:
        return code in known_codes()
    except RepairDeskError:
        return False


# Wider than a duplicate procedure's 5 days: a same-amount payment to the same beneficiary within
# two weeks is enough doubt to stop a repair; monthly payments (28+ days) stay out of it.
DUPLICATE_WINDOW_DAYS = 14
CONTRADICTED_CONFIDENCE = 0.3  # a code the evidence contradicts is no better than a guess


def _tool(toolbox: Toolbox, name: str, args: dict[str, Any]) -> dict[str, Any] | None:
    """A read-only tool's result, or None when it cannot answer (then it is simply no evidence)."""
    args = {k: v for k, v in args.items() if v not in (None, "", [])}
    try:
        return dict(toolbox.call(name, args))
    except RepairDeskError:
        return None


def text_codes(notes: str, documents: list[dict[str, Any]], reader: TextClassifier | None) -> list[str]:
    """The codes the case's free text points to: strong keyword rules and a sure classifier reading."""
    text = narrative_text(notes, documents)
    codes = [code for pattern, code, weight in KEYWORDS if weight >= 1.0 and pattern.search(text)]
    reading = _read_text(reader, text)
    if reading is not None:
        codes.append(reading[0])
    return codes


def gather_evidence(state: TriageState, toolbox: Toolbox, reader: TextClassifier | None) -> Evidence:
    """What the consistency check weighs: findings, parties, duplicates, account status, text."""
    payment = state.get("payment") or {}
    creditor = payment.get("creditor") or {}
    iban = (creditor.get("account") or {}).get("iban")
    debtor_iban = ((payment.get("debtor") or {}).get("account") or {}).get("iban")
    validated = _tool(toolbox, "validate_iban", {"iban": iban}) if iban else None
    documents = state.get("documents") or []
    duplicates = None
    if payment.get("amount") and payment.get("currency"):
        duplicates = _tool(
            toolbox,
            "find_duplicates",
            {
                "uetr": payment.get("uetr"),
                "reference": payment.get("reference"),
                "amount": payment.get("amount"),
                "currency": payment.get("currency"),
                "creditor_name": creditor.get("name"),
                "creditor_iban": iban,
                "value_date": payment.get("value_date"),
                "window_days": DUPLICATE_WINDOW_DAYS,
            },
        )
    account = _tool(toolbox, "lookup_account", {"iban": iban}) if iban else None
    holder = None
    if account and account.get("found") and account.get("customer_id"):
        holder = (_tool(toolbox, "get_customer", {"customer_id": account["customer_id"]}) or {}).get("name")
    return Evidence(
        findings=state.get("findings") or [],
        payment=payment,
        duplicates=duplicates,
        account=account,
        account_holder=holder,
        debtor_account=_tool(toolbox, "lookup_account", {"iban": debtor_iban}) if debtor_iban else None,
        iban_bic=(validated or {}).get("bic") if (validated or {}).get("valid") else None,
        document_types=[str(d.get("doc_type") or "") for d in documents],
        text_codes=text_codes(str(state["case"].get("notes") or ""), documents, reader),
    )


def _checked(
    state: TriageState,
    toolbox: Toolbox,
    code: str,
    confidence: float,
    reasons: list[str],
    reader: TextClassifier | None,
) -> dict[str, Any]:
    """The classification with the code-consistency verdict; a contradiction lowers its confidence."""
    documents, notes = state.get("documents") or [], str(state["case"].get("notes") or "")
    evidence = gather_evidence(state, toolbox, reader)
    verdict = check_code(code, evidence, FINDING_CODES) if code != "UNKNOWN" else None
    text = narrative_text(notes, documents)
    out: dict[str, Any] = {
        "exception_code": code,
        "classification_confidence": confidence,
        "classified_from": reasons,
    }
    if reader is not None and text:  # the head's reading: a feature of the confidence calibrator
        ranked = reader.rank(text)
        if ranked:
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            out["text_reading"] = {
                "label": ranked[0][0],
                "p": ranked[0][1],
                "margin": ranked[0][1] - runner_up,
            }
    if verdict is not None:
        out["consistency"] = verdict.as_dict()
        if not verdict.consistent:
            out["classification_confidence"] = min(confidence, CONTRADICTED_CONFIDENCE)
    out["evidence_only"] = None
    if reasons == ["given"]:
        # What the evidence alone would be classified as (the code withheld): verify runs its
        # procedure as a second opinion, a feature of the confidence calibrator, never a decision.
        alone = classify_unknown(state.get("findings") or [], documents, notes, reader)[0]
        alone_verdict = check_code(alone, evidence, FINDING_CODES) if alone != "UNKNOWN" else None
        out["evidence_only"] = {
            "code": alone,
            "contradictions": list(alone_verdict.contradictions) if alone_verdict else [],
        }
    return out


def classify(state: TriageState, runtime: Runtime[Context]) -> dict[str, Any]:
    case = state["case"]
    code = str(case.get("exception_code") or "UNKNOWN").strip().upper()
    toolbox = toolbox_of(runtime)
    documents, notes = state.get("documents") or [], str(case.get("notes") or "")
    reader = _reader_for(notes, documents)
    if code != "UNKNOWN" and _known(code):
        confidence = 0.99 if toolbox.claiming(code) else 0.9
        return _checked(state, toolbox, code, confidence, ["given"], reader)
    found, confidence, reasons = classify_unknown(state.get("findings") or [], documents, notes, reader)
    if code != "UNKNOWN":
        reasons.insert(0, f"given code {code!r} is not a known reason code")
    return _checked(state, toolbox, found, confidence, reasons, reader)
