"""verify: the playbook as verifier of the tool loop, and the plan it lets through.

The routed procedure's playbook is the verifier. Its evidence is what the loop gathered
(:func:`agents.loop.replay`) plus every step nobody filled, run here in code; its first true rule is
the verdict. With ``playbook`` the verdict is the plan. With a model, the model chooses among the
candidates of the procedure it followed (:func:`agents.llm_planner.choose`) and:

- a choice that equals the verdict (same action, same changes) is the plan, with the model's words;
- a choice to escalate stands (it only hands the case to an analyst);
- any other choice is a verifier disagreement: the plan escalates and says both sides;
- no valid choice, a spent step budget or a provider error falls back to the verdict, and says why.

Refused calls (a tool that does not exist, a procedure that cannot be followed) and model calls
that filled no step are listed on the plan. The result is ``plan`` (action, changes, rationale,
confidence, the ``citation`` of the rule applied, ``steps``: the run step by step for the analyst)
and the evidence trail (``tool_calls``, ``results_by_ref``, ``evidence``).
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langgraph.runtime import Runtime

from agents.context import Context
from agents.llm_planner import candidates_of, case_summary, choose, evidence_text
from agents.loop import (
    PARTY_PREFIX,
    PLANNER,
    Replay,
    bind_party,
    chosen_procedure,
    fill_missing,
    party_call,
    replay,
)
from agents.nodes.agent import MAX_MODEL_TURNS
from agents.nodes.common import model_of, toolbox_of
from agents.nodes.retrieve import pick_procedure
from agents.playbook import Outcome, outcomes, run_steps
from agents.state import TriageState
from tools.procedures import Policies, Procedure, default_policies


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
        "otherwise": outcome.rule.otherwise,  # the decision table's default row decided
        "model": model,
    }
    if citation is not None:
        plan["citation"] = citation.as_dict()
    plan.update(extra or {})
    return plan


def _escalate(reason: str, model: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    plan = {
        "action": "escalate",
        "changes": [],
        "rationale": reason,
        "confidence": 0.5,
        "model": model,
        "rule": None,
    }
    plan.update(extra or {})
    return plan


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


def second_opinion(
    state: TriageState, toolbox: Any, policies: Policies, verdict: Outcome | None = None
) -> dict[str, Any] | None:
    """The playbook's outcome had the upstream code been withheld (classify's ``evidence_only``).

    A feature of the confidence calibrator, never a decision: when a given code and the evidence
    alone lead to the same action and changes, the proposal does not hang on the code being right.
    When the evidence alone gives the same code, that is ``verdict`` (the routed playbook's, already
    run); otherwise its playbook runs in code on a copy of the state (no model, no messages), its
    tool calls off the trail. ``None`` when the code came from the evidence already (the plan is its
    own second opinion).
    """
    alone = state.get("evidence_only")
    if not alone:
        return None
    code = str(alone.get("code") or "UNKNOWN")
    routed = pick_procedure(toolbox.claiming(code), state.get("payment")) if code != "UNKNOWN" else None
    if routed is None or routed.playbook is None:
        return {"code": code, "action": "escalate", "changes": []}
    outcome = verdict if verdict is not None and code == state.get("exception_code") else None
    if outcome is None:
        twin: TriageState = {**state, "exception_code": code, "messages": []}
        check = replay(twin, toolbox, routed.playbook, policies)
        call = party_call(routed.playbook, check)
        if call is not None:  # no customer id: resolve the party this procedure means, as the planner does
            result = toolbox.call(call["name"], call["args"])  # a tool error comes back as a result
            check.party = bind_party(check.scope, str(call["id"]).removeprefix(PARTY_PREFIX), result)
        fill_missing(routed.playbook, check, toolbox)
        outcome = outcomes(routed.playbook, check.scope, policies)[0]
    if outcome.changes and alone.get("contradictions"):
        return {"code": code, "action": "escalate", "changes": []}
    changes = sorted([str(c["field"]), str(c["new"])] for c in outcome.changes)
    return {"code": code, "action": outcome.action, "changes": changes}


def _short(value: Any, limit: int = 160) -> str:
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def steps_of(messages: list[AnyMessage]) -> list[dict[str, Any]]:
    """The loop step by step, as the case page shows it: who asked for what, what each tool said."""
    steps: list[dict[str, Any]] = []
    for message in messages:
        ms = (message.response_metadata or {}).get("ms")
        if isinstance(message, AIMessage):
            steps.append(
                {
                    "kind": "planner" if message.name == PLANNER else "model",
                    "text": _short(message.content) if message.content else "",
                    "calls": [f"{c['name']}({_short(c.get('args') or {}, 120)})" for c in message.tool_calls],
                    "ms": ms,
                }
            )
        elif isinstance(message, ToolMessage):
            steps.append(
                {
                    "kind": "tool",
                    "tool": message.name,
                    "status": message.status,
                    "text": _short(message.content),
                    "ms": ms,
                }
            )
    return steps


def _agrees(choice: Outcome, verdict: Outcome) -> bool:
    key = lambda o: (o.action, sorted((c["field"], str(c["new"])) for c in o.changes))  # noqa: E731
    return key(choice) == key(verdict)


def _describe(outcome: Outcome) -> str:
    changes = ", ".join(f"{c['field']} -> {c['new']}" for c in outcome.changes)
    return f"{outcome.action}{' (' + changes + ')' if changes else ''}"


def _followed(
    state: TriageState, toolbox: Any, routed: Procedure, check: Replay, policies: Policies
) -> tuple[Procedure, Replay]:
    """The procedure the model followed and its evidence (the routed one unless it chose another)."""
    chosen = toolbox.procedure(chosen_procedure(list(state.get("messages") or []), toolbox) or "")
    if chosen is None or chosen.doc_id == routed.doc_id or chosen.playbook is None:
        return routed, check
    other = replay(state, toolbox, chosen.playbook, policies)
    # Its missing steps run in code too, on the one trail the guard checks against.
    run_steps(
        chosen.playbook,
        other.scope,
        check.recorder.step_call,
        toolbox.required_args,
        skip=lambda s: s.id in other.filled,
    )
    return chosen, other


def _loop_note(state: TriageState, check: Replay, spec: str) -> dict[str, Any]:
    note: dict[str, Any] = {"model": spec, "turns": int(state.get("turns") or 0), "budget": MAX_MODEL_TURNS}
    if check.refused:
        note["refused_calls"] = check.refused
    if check.off_script:
        note["off_script_calls"] = check.off_script
    for item in state.get("loop_notes") or []:
        note.setdefault("loop_errors", []).append(item)
    return note


def _model_plan(
    state: TriageState,
    model: Any,
    spec: str,
    routed: Procedure,
    followed: Procedure,
    evidence: Replay,
    verdict: Outcome,
    note: dict[str, Any],
    policies: Policies,
) -> dict[str, Any]:
    """The plan when a model ran the loop: its choice, checked against the playbook's verdict."""
    if evidence.pending and note["turns"] >= MAX_MODEL_TURNS:
        asked = ", ".join(c["tool"] for c in evidence.pending)
        reason = f"step budget of {MAX_MODEL_TURNS} model turns spent while still asking for {asked}"
        note["fallback"] = {"to": "playbook", "reason": reason, "attempts": 0}
        return _plan(verdict, spec, routed, policies, {"llm": note})
    playbook = followed.playbook
    assert playbook is not None  # _followed only follows procedures with a playbook
    summary = case_summary(evidence.scope.roots["case"], state.get("payment"), state.get("documents") or [])
    candidates = candidates_of(outcomes(playbook, evidence.scope, policies))
    label = f"{followed.doc_id} {followed.title}"
    choice, decided = choose(model, candidates, summary, label, evidence_text(playbook, evidence.scope))
    note.update(decided)
    if choice is None:
        return _plan(verdict, spec, routed, policies, {"llm": note})
    if choice.action == "escalate" or _agrees(choice, verdict):
        note["verifier"] = {"agrees": _agrees(choice, verdict), "playbook": _describe(verdict)}
        return _plan(choice, spec, followed, policies, {"llm": note})
    note["verifier"] = {"agrees": False, "model": _describe(choice), "playbook": _describe(verdict)}
    return _escalate(
        f"Verifier disagreement: the model chose {_describe(choice)} under {followed.doc_id}; "
        f"the playbook of {routed.doc_id} decides {_describe(verdict)}. An analyst decides.",
        spec,
        {"llm": note},
    )


def _steps(
    messages: list[AnyMessage], filled_in_code: list[str], plan: dict[str, Any]
) -> list[dict[str, Any]]:
    steps = steps_of(messages)
    if filled_in_code:
        steps.append(
            {"kind": "verifier", "text": "ran in code: " + ", ".join(filled_in_code), "calls": [], "ms": None}
        )
    verdict = f"{plan['action']}: {_short(plan.get('rationale', ''), 300)}"
    steps.append({"kind": "verdict", "text": verdict, "calls": [], "ms": None})
    return steps


def verify(state: TriageState, runtime: Runtime[Context]) -> dict[str, Any]:
    update, verdict = _verify(state, runtime)
    update["second_opinion"] = second_opinion(state, toolbox_of(runtime), default_policies(), verdict)
    return update


def _verify(state: TriageState, runtime: Runtime[Context]) -> tuple[dict[str, Any], Outcome | None]:
    toolbox = toolbox_of(runtime)
    spec = model_of(state, runtime)
    messages = list(state.get("messages") or [])
    code = state.get("exception_code", "UNKNOWN")
    info = state.get("procedure")
    routed = toolbox.procedure(info["doc_id"]) if info else None
    if routed is None:
        return {
            "plan": _escalate(f"No procedure covers exception code {code}; an analyst must decide.", spec)
        }, None
    playbook = routed.playbook
    if playbook is None:
        return {
            "plan": _escalate(f"{routed.doc_id} has no machine-readable steps; an analyst follows it.", spec)
        }, None
    policies = default_policies()
    check = replay(state, toolbox, playbook, policies)
    loop_calls = len(check.recorder.tool_calls)
    fill_missing(playbook, check, toolbox)
    verdict = outcomes(playbook, check.scope, policies)[0]
    model = toolbox.chat_model(spec)
    followed, evidence = routed, check
    if model is None:
        plan = _plan(verdict, spec, routed, policies)
    else:
        followed, evidence = _followed(state, toolbox, routed, check, policies)
        note = _loop_note(state, check, spec)
        if followed is not routed:
            note["procedure"] = followed.doc_id
        plan = _model_plan(state, model, spec, routed, followed, evidence, verdict, note, policies)
    if check.party is not None:
        plan["party_resolution"] = check.party
    plan = _unless_contradicted(plan, state, spec)
    plan["steps"] = _steps(messages, [c["tool"] for c in check.recorder.tool_calls[loop_calls:]], plan)
    steps = followed.playbook.steps if followed.playbook is not None else ()
    return {
        "plan": plan,
        "tool_calls": check.recorder.tool_calls,
        "results_by_ref": check.recorder.results_by_ref,
        "evidence": {s.id: evidence.scope.roots.get(s.id) for s in steps if s.id in evidence.scope.roots},
    }, verdict
