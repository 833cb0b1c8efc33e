"""plan_and_act: gather the procedure's evidence through the tools and decide what to propose.

With ``playbook`` the procedure's steps run in order and its first true rule decides. With an LLM
(:mod:`agents.llm_planner`) the model drives tool calls and chooses among candidates built in code;
values are never typed by a model. No procedure (or one without a playbook) means ``escalate``.
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
from agents.playbook import Outcome, outcomes, policy_scope, run_steps
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
    return {
        "plan": plan,
        "tool_calls": recorder.tool_calls,
        "results_by_ref": recorder.results_by_ref,
        "evidence": {s.id: scope.roots.get(s.id) for s in procedure.playbook.steps if s.id in scope.roots},
    }
