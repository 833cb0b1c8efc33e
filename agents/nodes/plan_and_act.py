"""plan_and_act: gather the procedure's evidence through the tools and decide what to propose.

With ``playbook`` the procedure's steps run in order and its first true rule decides. With an LLM
(:mod:`agents.llm_planner`) the model drives tool calls and chooses among candidates built in code;
values are never typed by a model. No procedure (or one without a playbook) means ``escalate``; so
does a repair on a code the evidence contradicts (``consistency``, set by classify).
A case without ``customer_id`` first has its party resolved (:func:`resolve_customer`).
The result is ``plan``: the chosen action, resolved changes, rationale, confidence, how it was
chosen and the ``citation`` of the rule applied (its decision-table row); plus the evidence trail
(``tool_calls``, ``results_by_ref``, ``evidence``).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.evidence import Recorder
from agents.llm_planner import case_summary, plan_with_model
from agents.nodes.common import model_of, toolbox_of
from agents.playbook import Outcome, Playbook, outcomes, policy_scope, run_steps
from agents.state import TriageState
from tools.procedures import Policies, Procedure, default_policies
from tools.procedures.expressions import Scope


def _scope(state: TriageState, policies: Policies) -> Scope:
    case = dict(state["case"])
    case["exception_code"] = state.get("exception_code")  # the classified code, not the raw one
    remittance = next((d["remittance"] for d in state.get("documents") or [] if d.get("remittance")), None)
    policy = policy_scope(case, state.get("findings") or [], policies)
    return Scope({"case": case, "payment": state.get("payment"), "remittance": remittance, "policy": policy})


def _plan(
    outcome: Outcome,
    model: str,
    procedure: Procedure,
    policies: Policies,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    rule = outcome.rule
    citation = procedure.citation_for(rule, policies.citation(rule.policy) if rule.policy else None)
    plan = {
        "action": outcome.action,
        "changes": outcome.changes,
        "rationale": outcome.rationale,
        "confidence": outcome.confidence,
        "four_eyes_above": None if outcome.four_eyes_above is None else str(outcome.four_eyes_above),
        "rule": outcome.key if outcome.rule.index >= 0 or outcome.rule.policy else outcome.action,
        "model": model,
    }
    if citation is not None:
        plan["citation"] = citation.as_dict()
    plan.update(extra or {})
    return plan


def _escalate(reason: str, model: str) -> dict[str, Any]:
    return {
        "action": "escalate",
        "changes": [],
        "rationale": reason,
        "confidence": 0.5,
        "model": model,
        "rule": None,
    }


def _party_role(playbook: Playbook) -> str:
    """Whose customer id the procedure means: the debtor's when it repairs debtor fields."""
    fields = [c.field for rule in playbook.rules for c in rule.changes]
    return "debtor" if any(f.startswith("payment.debtor.") for f in fields) else "creditor"


def _needs_customer(playbook: Playbook) -> bool:
    return any(
        "case.customer_id" in repr(s.args) or "case.customer_id" in (s.when or "") for s in playbook.steps
    )


def resolve_customer(playbook: Playbook, scope: Scope, recorder: Recorder) -> dict[str, Any] | None:
    """Without ``customer_id``, identify the customer from the party the payment names.

    ``resolve_party`` scores name, account, address and country and only resolves with a clear
    lead (tools/payments/parties.py); the call is on the evidence trail like any other. The id then
    stands in ``case.customer_id`` for the procedure's steps: every value still comes from the
    tools those steps call (SSI, customer record), never from the payment's text.
    """
    case = scope.roots["case"]
    payment = scope.roots.get("payment") or {}
    if case.get("customer_id") or not _needs_customer(playbook):
        return None
    role = _party_role(playbook)
    party = payment.get(role) or {}
    if not party.get("name"):
        return None
    args: dict[str, Any] = {"name": party["name"]}
    account = (party.get("account") or {}).get("iban")
    if account:
        args["iban"] = account
    if party.get("address_lines"):
        args["address_lines"] = list(party["address_lines"])
    if party.get("country"):
        args["country"] = party["country"]
    result = recorder.call("resolve_party", args, step=f"resolve_{role}")
    if not result.get("resolved"):
        return {"role": role, "resolved": False}
    case["customer_id"] = result["customer_id"]
    return {
        "role": role,
        "resolved": True,
        "customer_id": result["customer_id"],
        "score": result.get("score"),
    }


def _unless_contradicted(plan: dict[str, Any], state: TriageState, spec: str) -> dict[str, Any]:
    """A repair on a code the evidence contradicts becomes an escalation (classify's consistency check).

    Only changes are stopped: a procedure's own non-repair outcome (investigate, request_info, ...)
    already reads the evidence that contradicts its code and stands, with the lowered confidence.
    """
    contradictions = (state.get("consistency") or {}).get("contradictions") or []
    if not contradictions or not plan.get("changes"):
        return plan
    code = state.get("exception_code", "UNKNOWN")
    escalated = _escalate(
        f"The evidence contradicts exception code {code}: {'; '.join(contradictions)}. The procedure "
        f"proposed a {plan['action']} ({plan.get('rationale', '')}); an analyst decides what the case is.",
        spec,
    )
    escalated.update(
        {"rule": "code_consistency", "suppressed": {"action": plan["action"], "changes": plan["changes"]}}
    )
    for key in ("party_resolution", "llm"):
        if key in plan:
            escalated[key] = plan[key]
    return escalated


def plan_and_act(state: TriageState, runtime: Runtime[Context]) -> dict[str, Any]:
    toolbox = toolbox_of(runtime)
    spec = model_of(state, runtime)
    code = state.get("exception_code", "UNKNOWN")
    procedure_info = state.get("procedure")
    procedure = toolbox.procedure(procedure_info["doc_id"]) if procedure_info else None
    if procedure is None:
        return {
            "plan": _escalate(f"No procedure covers exception code {code}; an analyst must decide.", spec)
        }
    if procedure.playbook is None:
        return {
            "plan": _escalate(
                f"{procedure.doc_id} has no machine-readable steps; an analyst follows it.", spec
            )
        }
    policies = default_policies()
    scope = _scope(state, policies)
    recorder = Recorder(toolbox, state.get("payment"))
    party = resolve_customer(procedure.playbook, scope, recorder)
    model = toolbox.chat_model(spec)
    if model is None:
        run_steps(procedure.playbook, scope, recorder.step_call, toolbox.required_args)
        plan = _plan(outcomes(procedure.playbook, scope, policies)[0], spec, procedure, policies)
    else:
        summary = case_summary(scope.roots["case"], state.get("payment"), state.get("documents") or [])
        outcome, note = plan_with_model(
            model,
            spec,
            toolbox,
            procedure.playbook,
            f"{procedure.doc_id} {procedure.title}",
            scope,
            recorder,
            summary,
        )
        plan = _plan(outcome, spec, procedure, policies, {"llm": note})
    if party is not None:
        plan["party_resolution"] = party
    plan = _unless_contradicted(plan, state, spec)
    return {
        "plan": plan,
        "tool_calls": recorder.tool_calls,
        "results_by_ref": recorder.results_by_ref,
        "evidence": {s.id: scope.roots.get(s.id) for s in procedure.playbook.steps if s.id in scope.roots},
    }
