"""Running tools for a case and keeping the evidence trail the proposal and the guard rely on.

Contract: :class:`Recorder` runs a tool through the :class:`~agents.toolbox.Toolbox`, appends one
contract ``tool_calls`` entry per call and indexes every ``ref`` found in the result (top level and
nested candidates, duplicates, invoices) to the tool and the whole result, so the guard can check
that a proposed value literally appears in the result it cites: the result a procedure step bound
wins over an off-script call's (see :meth:`Recorder._index`). Results are made JSON-plain so they
checkpoint anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agents.contract import ToolCall
from agents.playbook import Step
from agents.toolbox import Toolbox


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _refs(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, Mapping):
        ref = value.get("ref")
        if isinstance(ref, str) and ref:
            found.append(ref)
        for key, item in value.items():
            if key != "ref":
                found.extend(_refs(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_refs(item))
    return found


class Recorder:
    def __init__(self, toolbox: Toolbox, payment: Mapping[str, Any] | None) -> None:
        self.toolbox = toolbox
        self.payment = dict(payment or {})
        self.tool_calls: list[dict[str, Any]] = []  # contract ToolCall JSON, as the state keeps it
        self.results_by_ref: dict[str, dict[str, Any]] = {}

    def call(
        self, tool: str, args: Mapping[str, Any], *, step: str | None = None, by: str = "playbook"
    ) -> dict[str, Any]:
        full = dict(args)
        # Tools that draft from "the payment from the case" get it without the planner typing it.
        if self.toolbox.accepts(tool, "payment") and "payment" not in full:
            full["payment"] = self.payment
        return self.record(tool, args, self.toolbox.call(tool, full), step=step, by=by)

    def record(
        self,
        tool: str,
        args: Mapping[str, Any],
        result: Mapping[str, Any],
        *,
        step: str | None = None,
        by: str = "playbook",
    ) -> dict[str, Any]:
        """Put a call that already ran (the graph's ``ToolNode`` ran it) on the trail."""
        plain: dict[str, Any] = _plain(dict(result))
        ref = plain.get("ref") if isinstance(plain.get("ref"), str) else None
        for found in _refs(plain):
            self._index(found, tool, plain, step)
        entry = ToolCall(tool=tool, args=_plain(dict(args)), result_ref=ref, by=by)
        if step:
            entry.step = step
        self.tool_calls.append(entry.dump())
        return plain

    def _index(self, ref: str, tool: str, result: dict[str, Any], step: str | None) -> None:
        """Which result the guard checks a citation of ``ref`` against.

        A result bound to a procedure step is what the rules, and so the proposal, read; it replaces
        whatever was indexed under the same ref before (the latest step result is the one in scope).
        A call that fills no step (an off-script model call) only indexes refs nobody else holds: it
        can never stand in for the result the proposal was built from.
        """
        held = self.results_by_ref.get(ref)
        if held is None or step is not None:
            self.results_by_ref[ref] = {"tool": tool, "result": result, "step": step}

    def step_call(self, step: Step, args: dict[str, Any]) -> dict[str, Any] | None:
        return self.call(step.tool, args, step=step.id)
