"""The tool loop's shared reading of the conversation: which calls filled which playbook steps.

The graph's ``agent`` node (a chat model, or the playbook planner when none is configured) asks for
tool calls; the ``tools`` node (LangGraph's ``ToolNode``, see :func:`tool_node`) runs them and answers
with ``ToolMessage``s whose ``artifact`` is the tool's whole result. Nothing else is kept between
turns: :func:`replay` rebuilds, from the messages alone, the evidence scope, the contract's
``tool_calls`` trail and the steps filled, so the loop checkpoints as messages and a resumed thread
reads exactly what the first process saw.

Who filled a step: a call whose id is ``step:<id>`` on a planner message was asked for by the
playbook planner; any call, the planner's included, fills a step only when it names the step's tool
with the arguments the step resolves from the case (:func:`same_args`), so a value the model typed,
or copied from notes, never becomes evidence a rule reads (nor does a model's forged step id).
``party:<role>`` calls resolve a case's customer from the payment's party
(:func:`party_call`); ``use_procedure`` is the model's choice of another procedure to follow.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import ToolNode
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command
from pydantic import BaseModel, Field

from agents.evidence import Recorder
from agents.playbook import Step, policy_scope, resolve_args
from agents.state import TriageState
from agents.toolbox import Toolbox
from tools.procedures import Playbook, Policies, Procedure
from tools.procedures.expressions import Scope, evaluate, truthy

USE_PROCEDURE = "use_procedure"
PLANNER = "planner"  # the name on the messages the playbook planner writes (a model's are "model")
STEP_PREFIX = "step:"
PARTY_PREFIX = "party:"
RESULT_CHARS = 4000  # what a model reads of one tool result; the artifact keeps all of it


class UseProcedureArgs(BaseModel):
    doc_id: str = Field(description="doc_id of the procedure to follow instead, e.g. SOP-AC04.")


def _schema_only(**_kwargs: Any) -> dict[str, Any]:  # pragma: no cover - the wrapper answers instead
    raise RuntimeError("catalogue tools run through the run's toolbox, not this stand-in")


@lru_cache(maxsize=1)
def offered_tools() -> tuple[BaseTool, ...]:
    """What a model is shown and the ``ToolNode`` validates names against: the evidence catalogue
    (argument schemas only; the run's toolbox executes) and ``use_procedure``."""
    from tools.agent_tools import tool_schemas

    return (
        *tool_schemas(),
        StructuredTool.from_function(
            func=_schema_only,
            name=USE_PROCEDURE,
            description="Follow another procedure than the one routed for the exception code; "
            "its evidence steps are returned. The playbook still verifies the decision.",
            args_schema=UseProcedureArgs,
        ),
    )


def same_args(model_args: Mapping[str, Any], step_args: Mapping[str, Any]) -> bool:
    """A model's arguments equal a step's (case and spacing of the values aside, absent ones dropped)."""
    norm = {k: str(v).strip().upper() for k, v in model_args.items() if v not in (None, "", [])}
    want = {k: str(v).strip().upper() for k, v in step_args.items()}
    return norm == want


def base_scope(state: TriageState, policies: Policies) -> Scope:
    case = dict(state["case"])
    case["exception_code"] = state.get("exception_code")  # the classified code, not the raw one
    remittance = next((d["remittance"] for d in state.get("documents") or [] if d.get("remittance")), None)
    policy = policy_scope(case, state.get("findings") or [], policies)
    return Scope({"case": case, "payment": state.get("payment"), "remittance": remittance, "policy": policy})


def _describe_steps(playbook: Playbook | None) -> list[str]:
    if playbook is None:
        return []
    return [f"{s.id}: {s.tool}({', '.join(f'{k}={v}' for k, v in s.args.items())})" for s in playbook.steps]


def procedure_choice(toolbox: Toolbox, doc_id: str) -> dict[str, Any]:
    """The result of ``use_procedure``: the procedure's steps, or why it cannot be followed."""
    procedure = toolbox.procedure(str(doc_id).strip())
    if procedure is None:
        return {"found": False, "error": f"no procedure {doc_id!r}"}
    if procedure.playbook is None:
        return {"found": False, "error": f"{procedure.doc_id} has no machine-readable steps"}
    return {
        "found": True,
        "doc_id": procedure.doc_id,
        "title": procedure.title,
        "exception_codes": list(procedure.exception_codes),
        "steps": _describe_steps(procedure.playbook),
    }


def _run_call(request: ToolCallRequest, toolbox: Toolbox) -> dict[str, Any]:
    call = request.tool_call
    args = dict(call.get("args") or {})
    if call["name"] == USE_PROCEDURE:
        return procedure_choice(toolbox, str(args.get("doc_id", "")))
    state = request.state if isinstance(request.state, Mapping) else {}
    # Tools that draft from "the payment from the case" get it without the planner typing it.
    if toolbox.accepts(call["name"], "payment") and "payment" not in args:
        args["payment"] = state.get("payment") or {}
    return json.loads(json.dumps(toolbox.call(call["name"], args), default=str))


def _answer(
    request: ToolCallRequest, execute: Callable[[ToolCallRequest], Any]
) -> ToolMessage | Command[Any]:
    """Run one requested call with the run's toolbox; an unknown tool is refused, never guessed."""
    from agents.nodes.common import toolbox_of

    call = request.tool_call
    started = time.perf_counter()
    if request.tool is None:
        offered = ", ".join(sorted(t.name for t in offered_tools()))
        result: dict[str, Any] = {
            "found": False,
            "error": f"tool {call['name']!r} does not exist; offered: {offered}",
        }
    else:
        result = _run_call(request, toolbox_of(request.runtime))  # type: ignore[arg-type]
    failed = bool(result.get("error")) and not result.get("found", True)
    return ToolMessage(
        content=json.dumps(result, default=str, ensure_ascii=False)[:RESULT_CHARS],
        artifact=result,
        name=call["name"],
        tool_call_id=call["id"] or call["name"],
        status="error" if failed else "success",
        response_metadata={"ms": round((time.perf_counter() - started) * 1000, 1)},
    )


def tool_node() -> ToolNode:
    """The graph's ``tools`` node: LangGraph's ``ToolNode`` over the offered tools, each call answered
    by the run's toolbox (tests and embedders inject theirs through the run context)."""
    return ToolNode(offered_tools(), wrap_tool_call=_answer, handle_tool_errors=True)


# --- replay -------------------------------------------------------------------------------------


@dataclass
class Replay:
    """What the conversation so far amounts to, for one procedure's playbook."""

    scope: Scope
    recorder: Recorder
    filled: dict[str, str] = field(default_factory=dict)  # step id -> tool call id
    party: dict[str, Any] | None = None
    party_asked: bool = False
    refused: list[dict[str, str]] = field(default_factory=list)  # calls that did not run
    off_script: list[str] = field(default_factory=list)  # model calls that filled no step
    chosen: str | None = None  # the procedure the model chose with use_procedure
    pending: list[dict[str, Any]] = field(default_factory=list)  # calls asked for, never answered


def _results(messages: list[AnyMessage]) -> dict[str, ToolMessage]:
    return {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}


def chosen_procedure(messages: list[AnyMessage], toolbox: Toolbox) -> str | None:
    """The last procedure a model validly chose with ``use_procedure`` (None: the routed one)."""
    answers = _results(messages)
    chosen = None
    for message in messages:
        for call in getattr(message, "tool_calls", None) or []:
            answer = answers.get(call.get("id") or "")
            if call["name"] == USE_PROCEDURE and answer is not None and (answer.artifact or {}).get("found"):
                chosen = str(answer.artifact["doc_id"])
    return chosen


def replay(state: TriageState, toolbox: Toolbox, playbook: Playbook | None, policies: Policies) -> Replay:
    """Rebuild scope, trail and filled steps for ``playbook`` from the state's messages."""
    messages = list(state.get("messages") or [])
    scope = base_scope(state, policies)
    done = Replay(scope=scope, recorder=Recorder(toolbox, state.get("payment")))
    answers = _results(messages)
    steps = playbook.steps if playbook is not None else ()
    for message in messages:
        if not isinstance(message, AIMessage):
            continue
        # Only the planner's own messages may carry step and party ids (a model could forge them).
        planner = message.name == PLANNER
        for call in message.tool_calls:
            call_id, name, args = call.get("id") or "", call["name"], dict(call.get("args") or {})
            answer = answers.get(call_id)
            if answer is None:
                done.pending.append({"tool": name, "args": args})
                continue
            result = answer.artifact if isinstance(answer.artifact, dict) else {"error": str(answer.content)}
            if name == USE_PROCEDURE:
                if result.get("found"):
                    done.chosen = str(result["doc_id"])
                else:
                    done.refused.append({"tool": name, "reason": str(result.get("error"))})
                continue
            if answer.status == "error" and "does not exist" in str(result.get("error", "")):
                done.refused.append({"tool": name, "reason": str(result["error"])})
                continue
            if planner and call_id.startswith(PARTY_PREFIX):
                done.party_asked = True
                done.party = bind_party(scope, call_id.removeprefix(PARTY_PREFIX), result)
                done.recorder.record(name, args, result, step=f"resolve_{call_id.removeprefix(PARTY_PREFIX)}")
                continue
            by = "playbook" if planner else "model"
            step = _step_filled(call_id if planner else "", name, args, steps, done, toolbox)
            done.recorder.record(name, args, result, step=step.id if step else None, by=by)
            if step is not None:
                scope.set(step.id, result)
                done.filled[step.id] = call_id
            elif by == "model":
                done.off_script.append(name)
    return done


def _step_filled(
    call_id: str, name: str, args: dict[str, Any], steps: tuple[Step, ...], done: Replay, toolbox: Toolbox
) -> Step | None:
    wanted = call_id.removeprefix(STEP_PREFIX) if call_id.startswith(STEP_PREFIX) else None
    for step in steps:
        if wanted is not None and step.id != wanted:
            continue
        if step.tool != name or step.id in done.filled:
            continue
        want = resolve_args(step, done.scope, toolbox.required_args(step.tool))
        if want is not None and same_args(args, want):
            return step
    return None


def bind_party(scope: Scope, role: str, result: Mapping[str, Any]) -> dict[str, Any]:
    if not result.get("resolved"):
        return {"role": role, "resolved": False}
    scope.roots["case"]["customer_id"] = result["customer_id"]
    return {
        "role": role,
        "resolved": True,
        "customer_id": result["customer_id"],
        "score": result.get("score"),
    }


# --- the playbook planner -----------------------------------------------------------------------


def party_role(playbook: Playbook) -> str:
    """Whose customer id the procedure means: the debtor's when it repairs debtor fields."""
    fields = [c.field for rule in playbook.rules for c in rule.changes]
    return "debtor" if any(f.startswith("payment.debtor.") for f in fields) else "creditor"


def _needs_customer(playbook: Playbook) -> bool:
    return any(
        "case.customer_id" in repr(s.args) or "case.customer_id" in (s.when or "") for s in playbook.steps
    )


def party_call(playbook: Playbook, done: Replay) -> dict[str, Any] | None:
    """The ``resolve_party`` call a case without ``customer_id`` needs first, or None.

    ``resolve_party`` scores name, account, address and country and only resolves with a clear lead
    (tools/payments/parties.py). The id then stands in ``case.customer_id`` for the procedure's
    steps: every value still comes from the tools those steps call, never from the payment's text.
    """
    case = done.scope.roots["case"]
    if done.party_asked or case.get("customer_id") or not _needs_customer(playbook):
        return None
    role = party_role(playbook)
    party = (done.scope.roots.get("payment") or {}).get(role) or {}
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
    return {"name": "resolve_party", "args": args, "id": f"{PARTY_PREFIX}{role}", "type": "tool_call"}


def _depends(step: Step, on: list[Step]) -> bool:
    text = f"{step.when or ''} {json.dumps(step.args, default=str)}"
    return any(re.search(rf"(?<![\w.]){re.escape(s.id)}\b", text) for s in on)


def next_steps(playbook: Playbook, done: Replay, toolbox: Toolbox) -> list[dict[str, Any]]:
    """The playbook's next calls, exactly as :func:`agents.playbook.run_steps` would make them.

    Steps run in order; each sees only the results of the steps before it. Consecutive steps that do
    not read one another's results are asked for together (one tool round, run in parallel).
    """
    batch: list[Step] = []
    calls: list[dict[str, Any]] = []
    prior = Scope({k: v for k, v in done.scope.roots.items() if k not in playbook.step_ids})
    for step in playbook.steps:
        if step.id in done.filled:
            prior.set(step.id, done.scope.roots.get(step.id))
            continue
        if _depends(step, batch):
            break
        if step.when is not None and not truthy(evaluate(step.when, prior)):
            continue
        args = resolve_args(step, prior, toolbox.required_args(step.tool))
        if args is None:
            continue
        batch.append(step)
        calls.append({"name": step.tool, "args": args, "id": f"{STEP_PREFIX}{step.id}", "type": "tool_call"})
    return calls


def fill_missing(playbook: Playbook, done: Replay, toolbox: Toolbox) -> None:
    """Run, in code, every step of ``playbook`` nobody filled (the model may leave steps out)."""
    from agents.playbook import run_steps

    run_steps(
        playbook,
        done.scope,
        done.recorder.step_call,
        toolbox.required_args,
        skip=lambda s: s.id in done.filled,
    )


def procedure_of(toolbox: Toolbox, doc_id: str | None) -> Procedure | None:
    return toolbox.procedure(doc_id) if doc_id else None
