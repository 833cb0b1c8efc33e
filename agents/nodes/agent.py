"""agent: the model node of the tool loop (``agent`` <-> ``tools`` until no call is asked for).

With a chat model, the model sees the case, the routed procedure's steps and the offered tools
(:func:`agents.loop.offered_tools`) and asks for calls; it may choose another procedure with
``use_procedure``. Its turns are capped at :data:`MAX_MODEL_TURNS` (the step budget): a reply that
still asks for calls after the last turn ends the loop, and the verifier says so. With ``playbook``
(no model) the same node is the playbook planner: it asks for the procedure's next steps
(:func:`agents.loop.next_steps`) until none is left. Either way, a case without ``customer_id`` first
has its party resolved (:func:`agents.loop.party_call`), and a provider error ends the loop without
losing the case (the verifier completes the evidence in code).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from agents.context import Context
from agents.llm_planner import case_summary
from agents.loop import PLANNER, next_steps, offered_tools, party_call, procedure_of, replay
from agents.nodes.common import model_of, toolbox_of
from agents.prompts import fill
from agents.state import TriageState
from tools.procedures import default_policies

log = logging.getLogger(__name__)
MAX_MODEL_TURNS = 6


def _said(text: str, **meta: Any) -> dict[str, Any]:
    return {"messages": [AIMessage(content=text, name=PLANNER, response_metadata=meta)]}


def _steps_text(procedure: Any) -> str:
    steps = procedure.playbook.steps if procedure.playbook is not None else ()
    return "\n".join(f"- {s.id}: {s.tool}({', '.join(f'{k}={v}' for k, v in s.args.items())})" for s in steps)


def agent(state: TriageState, runtime: Runtime[Context]) -> dict[str, Any]:
    toolbox = toolbox_of(runtime)
    spec = model_of(state, runtime)
    routed = procedure_of(toolbox, (state.get("procedure") or {}).get("doc_id"))
    if routed is None or routed.playbook is None:
        return _said("No procedure with machine-readable steps covers this case.")
    done = replay(state, toolbox, routed.playbook, default_policies())
    party = party_call(routed.playbook, done)
    if party is not None:  # a planner step, not a model turn
        return {"messages": [AIMessage(content="", name=PLANNER, tool_calls=[party])]}
    model = toolbox.chat_model(spec)
    if model is None:
        calls = next_steps(routed.playbook, done, toolbox)
        if not calls:
            return _said("Playbook: the procedure's evidence is complete.")
        return {"messages": [AIMessage(content="", name=PLANNER, tool_calls=calls)]}
    turns = int(state.get("turns") or 0)
    if any(n.get("kind") == "model_error" for n in state.get("loop_notes") or []):
        return _said("The model failed; the verifier completes the evidence in code.")
    intro: list[BaseMessage] = [
        SystemMessage(
            fill(
                "plan_and_act.v2",
                procedure=f"{routed.doc_id} {routed.title}",
                steps=_steps_text(routed) or "- none",
                budget=str(MAX_MODEL_TURNS),
            )
        ),
        HumanMessage(
            case_summary(done.scope.roots["case"], state.get("payment"), state.get("documents") or [])
        ),
    ]
    started = time.perf_counter()
    try:
        reply = model.bind_tools(offered_tools()).invoke([*intro, *(state.get("messages") or [])])
    except NotImplementedError:
        note = {"kind": "no_tool_calling", "reason": f"{spec} cannot call tools; code gathers the evidence"}
        return {**_said(note["reason"]), "loop_notes": [note], "turns": turns + 1}
    except Exception as exc:  # a provider outage must not lose the case: code gathers the evidence
        log.warning("model turn failed for %s: %s", spec, exc)
        note = {"kind": "model_error", "reason": f"{type(exc).__name__}: {exc}"}
        return {**_said(f"Model error: {note['reason']}"), "loop_notes": [note], "turns": turns + 1}
    if not isinstance(reply, AIMessage):
        reply = AIMessage(content=str(getattr(reply, "content", reply)))
    reply.name = "model"  # whatever the provider sent: only the planner's own messages say "planner"
    reply.response_metadata = {**(reply.response_metadata or {}), "ms": _ms(started), "turn": turns + 1}
    return {"messages": [reply], "turns": turns + 1}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def route(state: TriageState) -> str:
    """``tools`` while the last reply asks for calls and the budget allows; else ``verify``."""
    messages = state.get("messages") or []
    last = messages[-1] if messages else None
    if not isinstance(last, AIMessage) or not last.tool_calls:
        return "verify"
    if last.name == PLANNER:  # the playbook planner's and the party's calls are not model turns
        return "tools"
    return "tools" if int(state.get("turns") or 0) < MAX_MODEL_TURNS else "verify"
