"""The proposal's confidence: the calibrator's probability that an analyst approves it unchanged.

:func:`features` reads what the graph already holds (classification, code consistency, findings,
the procedure's evidence: SSI name score, candidates, IBAN/BIC checks; retrieval score, documents,
format, amount band, and the narrative head's reading of the notes, a reduction of their MiniLM
embedding to the head's label probabilities). :func:`calibrated` applies the deployed calibrator
(:mod:`tools.calibration`); without one the old hand-typed product stands. A shadow challenger, when
set, is scored beside it and both land in ``proposal["calibration"]`` so their agreement can be
measured. Features stay in the graph state (``calibration``), not in the contract's proposal.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from agents.state import TriageState
from tools.calibration import active_calibrator, shadow_calibrator
from tools.config import prompts_dir
from tools.payments.code_consistency import AGREEING, REPAIR_FAMILIES, family_of

ACTIONS = ("repair", "escalate", "request_info", "investigate", "return", "no_action")
FORMATS = ("fin", "xml", "payment")


def _walk(value: Any, key: str) -> list[Any]:
    """Every value under ``key`` anywhere in ``value``."""
    found: list[Any] = []
    if isinstance(value, dict):
        for k, item in value.items():
            if k == key:
                found.append(item)
            found.extend(_walk(item, key))
    elif isinstance(value, list):
        for item in value:
            found.extend(_walk(item, key))
    return found


def _amount(payment: dict[str, Any]) -> float:
    try:
        return float(Decimal(str(payment.get("amount"))))
    except (InvalidOperation, ValueError):
        return 0.0


def _rule_index(rule: Any) -> float:
    """N of a playbook rule key ``ruleN`` (0 for policies, escalations and the consistency check)."""
    text = str(rule or "")
    return float(text[4:]) if text.startswith("rule") and text[4:].isdigit() else 0.0


def second_opinion(state: TriageState, proposal: dict[str, Any]) -> dict[str, float]:
    """Does the proposal hang on the given code? Compared with verify's ``second_opinion`` (the
    playbook's outcome had the code been withheld): whether the evidence alone names a code, leads
    to the same action and changes, the same action, or a code of the same kind of fault."""
    code = str(state.get("exception_code") or "UNKNOWN")
    mine = (
        str(proposal.get("action")),
        sorted([str(c.get("field")), str(c.get("new"))] for c in proposal.get("changes") or []),
    )
    second = state.get("second_opinion")
    if second is None:  # the code came from the evidence: the proposal is its own second opinion
        other_code, other = code, mine
    else:
        other_code = str(second.get("code") or "UNKNOWN")
        other = (str(second.get("action")), [list(c) for c in second.get("changes") or []])
    known, same = other_code != "UNKNOWN", mine == other
    group = next((g for g in AGREEING if other_code in g), frozenset({other_code}))
    return {
        "alone_known": float(known),
        "alone_same": float(same),
        "alone_same_known": float(same and known),
        "alone_differs_known": float(known and not same),
        "alone_same_action": float(mine[0] == other[0]),
        "alone_code_agrees": float(known and code in group),
    }


def features(state: TriageState, proposal: dict[str, Any]) -> dict[str, float]:
    """The calibrator's inputs for one proposal (all floats; absent evidence is 0)."""
    action = str(proposal.get("action"))
    consistency = state.get("consistency") or {}
    evidence = state.get("evidence") or {}
    findings = state.get("findings") or []
    errors = [f for f in findings if f.get("severity") == "error"]
    codes = {str(f.get("code", "")) for f in errors}
    documents = state.get("documents") or []
    payment = state.get("payment") or {}
    plan = state.get("plan") or {}
    reading = state.get("text_reading") or {}
    name_scores = [float(s) for s in _walk(evidence, "name_score") if isinstance(s, int | float)]
    candidates = [c for c in _walk(evidence, "candidates") if isinstance(c, list)]
    retrieval = [
        float(c.get("score") or 0.0) for c in state.get("citations") or [] if c.get("score") is not None
    ]
    valid = [bool(v) for v in _walk(evidence, "valid") if isinstance(v, bool)]
    amount = _amount(payment)
    contradictions = len(consistency.get("contradictions") or [])
    out: dict[str, float] = {
        **{f"action_{a}": float(action == a) for a in ACTIONS},
        "changes": float(len(proposal.get("changes") or [])),
        "code_given": float((state.get("classified_from") or []) == ["given"]),
        "code_unknown": float(state.get("exception_code") in (None, "UNKNOWN")),
        "classification_confidence": float(state.get("classification_confidence") or 0.0),
        "rule_confidence": float(plan.get("confidence") or 0.0),
        "rule_fired": float(bool(plan.get("rule")) and plan.get("rule") not in ACTIONS),
        "rule_index": _rule_index(plan.get("rule")),
        "rule_otherwise": float(bool(plan.get("otherwise"))),
        "rule_policy": float(str(plan.get("rule") or "").startswith("policy:")),
        "rule_consistency": float(plan.get("rule") == "code_consistency"),
        "code_checked": float(bool(consistency.get("checked"))),
        "contradictions": float(contradictions),
        "supports": float(len(consistency.get("supports") or [])),
        "repair_contradicted": float(action == "repair" and contradictions > 0),
        "evidence_agrees": float(bool(consistency.get("agrees"))),
        "evidence_elsewhere": float(
            bool(consistency.get("evidence_codes")) and not consistency.get("agrees")
        ),
        "evidence_codes": float(len(consistency.get("evidence_codes") or [])),
        **second_opinion(state, proposal),
        **{f"family_{f}": float(family_of(str(state.get("exception_code"))) == f) for f in REPAIR_FAMILIES},
        "findings_errors": float(len(errors)),
        "iban_error": float(any(c.startswith("IBAN") for c in codes)),
        "bic_error": float(any(c.startswith("BIC") for c in codes)),
        "checks_valid": float(sum(valid)),
        "checks_invalid": float(len(valid) - sum(valid)),
        "ssi_name_score": max(name_scores, default=0.0),
        "candidates": float(max((len(c) for c in candidates), default=0)),
        "retrieval_score": max(retrieval, default=0.0),
        "documents": float(len(documents)),
        "document_errors": float(len(state.get("document_errors") or [])),
        "extraction_confidence": min(
            (float(c) for c in _walk(documents, "confidence") if isinstance(c, int | float)), default=1.0
        ),
        **{f"format_{f}": float(state.get("message_format") == f) for f in FORMATS},
        "log_amount": math.log10(amount + 1.0),
        "four_eyes": float(bool(proposal.get("four_eyes"))),
        "guard_failed": float(not (proposal.get("guard") or {}).get("passed", True)),
        "party_resolved": float(bool((plan.get("party_resolution") or {}).get("resolved"))),
        "no_customer": float(not (state.get("case") or {}).get("customer_id")),
        "notes": float(bool(str((state.get("case") or {}).get("notes") or "").strip())),
        "text_p": float(reading.get("p") or 0.0),
        "text_margin": float(reading.get("margin") or 0.0),
        "text_none": float(reading.get("label") == "NONE"),
        "text_agrees": float(bool(reading) and reading.get("label") == state.get("exception_code")),
    }
    return out


def calibrated(state: TriageState, proposal: dict[str, Any], fallback: float) -> tuple[float, dict[str, Any]]:
    """(confidence, the state's ``calibration`` record) for ``proposal``."""
    values = features(state, proposal)
    champion = active_calibrator()
    record: dict[str, Any] = {"features": values, "version": champion.version if champion else "none"}
    confidence = round(champion.probability(values), 4) if champion else fallback
    shadow = shadow_calibrator()
    if shadow is not None:
        record["shadow"] = {"version": shadow.version, "confidence": round(shadow.probability(values), 4)}
    return confidence, record


@lru_cache(maxsize=1)
def prompts_version() -> str:
    """A short hash over the prompt templates: which prompts a proposal was made under."""
    sha = hashlib.sha256()
    for path in sorted(prompts_dir().glob("*.md")):
        sha.update(path.name.encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()[:12]
