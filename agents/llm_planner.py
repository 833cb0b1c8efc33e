"""The LLM's decision: it chooses among candidates built in code; it never types a value.

Contract of :func:`choose`: candidates are built from the playbook rules that hold over the evidence
(plus ``escalate`` and ``request_info``); the model chooses one by id, with a rationale and a
confidence, as structured output (:class:`agents.contract.PlannerChoice`) under a schema whose
``candidate`` is an enum of the ids and which allows no other field (a ``changes`` the model adds is a
schema violation, not a change). An answer that fails the schema is retried once; a second failure
(or a provider error) returns no outcome and the typed error (``schema violation: <where>: <what>``),
and the verifier falls back to the playbook's decision, which the guard checks like any other. The
evidence itself is gathered by the graph's tool loop (:mod:`agents.nodes.agent`, :mod:`agents.loop`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from agents.contract import PlannerChoice, error_text
from agents.playbook import Outcome, Playbook, Rule
from agents.prompts import fill
from tools.procedures.expressions import Scope

log = logging.getLogger(__name__)
GENERIC = {
    "escalate": "Hand the case to an analyst without a repair.",
    "request_info": "Ask the ordering customer or bank for the missing information.",
}


def decision_schema(ids: list[str]) -> dict[str, Any]:
    """JSON schema of the decision; ``candidate`` is an enum so a grammar can only emit valid ids."""
    return {
        "title": "RepairDecision",
        "description": "Choose one candidate proposal by id.",
        "type": "object",
        "properties": {
            "candidate": {"type": "string", "enum": ids},
            "rationale": {"type": "string", "minLength": 1, "maxLength": 200},
            # A short enum, not a free number: a grammar then cannot spend tokens on endless digits.
            "confidence": {"type": "number", "enum": [round(0.1 * i, 1) for i in range(1, 11)]},
        },
        "required": ["candidate", "rationale", "confidence"],
        "additionalProperties": False,
    }


def untrusted(text: str) -> str:
    """Wrap outside text so prompts can tell data from instructions (angle brackets neutralised)."""
    cleaned = text.replace("<", "‹").replace(">", "›")
    return f"<untrusted_data>\n{cleaned}\n</untrusted_data>"


def case_summary(
    case: Mapping[str, Any], payment: Mapping[str, Any] | None, documents: list[dict[str, Any]]
) -> str:
    lines = [
        f"exception_code={case.get('exception_code')} customer_id={case.get('customer_id') or 'n/a'}",
        "payment=" + json.dumps(payment or {}, ensure_ascii=False, sort_keys=True)[:2500],
    ]
    if case.get("notes"):
        lines.append("notes:\n" + untrusted(str(case["notes"])[:1500]))
    for document in documents[:3]:
        body = json.dumps(
            {k: document.get(k) for k in ("doc_type", "remittance", "payment") if document.get(k)},
            ensure_ascii=False,
        )[:1500]
        lines.append(f"document {document.get('source')}:\n" + untrusted(body))
    return "\n".join(lines)


def _compact(result: Any) -> Any:
    """A tool result's scalar fields (lists as their length): small models read short prompts better."""
    if not isinstance(result, Mapping):
        return result
    compact: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, list):
            compact[f"{key}_count"] = len(value)
        elif isinstance(value, Mapping):
            compact[key] = {k: v for k, v in value.items() if isinstance(v, str | int | float | bool)}
        elif value is not None:
            compact[key] = value[:160] if isinstance(value, str) else value
    return compact


def candidates_of(fired: list[Outcome]) -> dict[str, Outcome]:
    found: dict[str, Outcome] = {}
    seen = set()
    for item in fired:
        key = (item.action, json.dumps(item.changes, sort_keys=True))
        if key not in seen:
            seen.add(key)
            # A proposal without changes is named by its action: ids stay stable across procedures.
            found[item.action if not item.changes and item.action not in found else item.key] = item
    for action, text in GENERIC.items():
        if (action, "[]") not in seen:
            found[action] = Outcome(
                rule=Rule(index=-1, action=action, otherwise=True),
                action=action,
                rationale=text,
                confidence=0.6,
            )
    return found


def _describe(candidates: dict[str, Outcome]) -> str:
    lines = []
    for cid, item in candidates.items():
        changes = (
            ", ".join(f"{c['field']}: {c.get('old')!r} -> {c.get('new')!r}" for c in item.changes)
            or "no change"
        )
        lines.append(f"- id={cid} action={item.action}; {changes}; because: {item.rationale}")
    return "\n".join(lines)


def _parse(out: Any, ids: list[str]) -> tuple[PlannerChoice | None, str]:
    """The model's structured output as a :class:`PlannerChoice`, or None and the typed error."""
    parsed = out.get("parsed") if isinstance(out, Mapping) and "parsed" in out else out
    if isinstance(parsed, BaseModel):
        parsed = parsed.model_dump()
    if not isinstance(parsed, Mapping):
        error = out.get("parsing_error") if isinstance(out, Mapping) else None
        return None, f"no structured answer ({error or 'nothing parsed'})"
    try:
        decision = PlannerChoice.model_validate(parsed)
    except PydanticValidationError as exc:
        return None, f"schema violation: {error_text(exc)}"
    if decision.candidate not in ids:
        return None, f"candidate {decision.candidate!r} is not one of {ids}"
    return decision, ""


def choose(
    model: BaseChatModel, candidates: dict[str, Outcome], summary: str, procedure: str, evidence: str
) -> tuple[Outcome | None, dict[str, Any]]:
    """The model's choice among ``candidates`` (None when it gave no valid answer twice) and the note."""
    ids = list(candidates)
    prompt = fill(
        "propose_repair.v1",
        case_summary=summary,
        procedure=procedure,
        evidence=evidence[:6000],
        candidates=_describe(candidates),
    )
    messages: list[BaseMessage] = [HumanMessage(prompt)]
    errors: list[str] = []
    decision: PlannerChoice | None = None
    for _attempt in range(2):
        try:
            out = model.with_structured_output(decision_schema(ids), include_raw=True).invoke(messages)
            decision, error = _parse(out, ids)
        except Exception as exc:  # provider errors count as an invalid answer
            decision, error = None, f"{type(exc).__name__}: {exc}"
        if decision is not None:
            break
        errors.append(error)
        messages = [*messages, HumanMessage(fill("retry_invalid.v1", error=error, ids=", ".join(ids)))]
    note: dict[str, Any] = {"candidates": ids}
    if decision is None:
        note["fallback"] = {"to": "playbook", "reason": errors[-1], "attempts": len(errors)}
        return None, note
    chosen = candidates[decision.candidate]
    note["chosen"] = decision.candidate
    if errors:
        note["retried"] = errors
    chosen.rationale = f"{decision.rationale.strip()} (evidence: {chosen.rationale})"
    chosen.confidence = round(min(chosen.confidence, decision.confidence), 2)
    return chosen, note


def evidence_text(playbook: Playbook, scope: Scope) -> str:
    """The steps' results, compacted, as the decision prompt shows them."""
    return json.dumps(
        {s.id: _compact(scope.roots.get(s.id)) for s in playbook.steps}, default=str, ensure_ascii=False
    )
