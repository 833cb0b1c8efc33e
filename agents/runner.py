"""The public way to run triage threads: :class:`TriageRunner` (used by the CLI, the API and workers).

Contract:
- ``start(case, thread_id)`` runs the graph up to human review and returns the contract's proposal
  (status ``pending_review``). Idempotent: for a thread already waiting for review (or finished) it
  returns the stored proposal without running a tool again.
- ``resume(thread_id, decision)`` hands the analyst's decision (``{"decision": "approve|edit|reject",
  "changes": [...], "comment": ..., "user": ...}``) to the waiting thread and returns
  ``{"status", "final_changes", "repaired_message", "proposal", "decision"}``. Idempotent: a finished
  thread returns its stored result and nothing is applied or recorded twice. A thread that a crash
  stopped after it took the decision (between ``human_review``, ``apply`` and ``record``) is run on
  to its end. A thread that already took a *different* decision raises ``ValidationError``: the
  caller's record and the checkpoint disagree, and applying either silently would be wrong.
- ``check_edit(thread_id, changes)`` returns the guard's violations of an analyst's changes against
  this thread's own trusted tool results (:func:`agents.guard.check`), so an edit is re-guarded with
  the evidence the agent actually gathered.
- ``take_usage(thread_id)`` returns the metered model usage of the thread recorded in this process
  (``{"calls", "input_tokens", "output_tokens", "cost_usd", "models"}``, see
  :func:`agents.bedrock.usage_record`) and forgets it; ``None`` for a model that keeps no ledger
  (playbook, OpenAI-compatible, llama.cpp) or when nothing was called. Workers store it with the proposal.
- Each ``start`` is traced as OpenTelemetry spans when a tracer provider is configured
  (:mod:`agents.tracing`); the steps the analyst sees are on the proposal either way.
- ``get_state(thread_id)`` returns ``{"thread_id", "status", "proposal", "result", "next"}`` or None.
Bad input raises :class:`tools.errors.ValidationError`; an unknown thread on resume raises
:class:`tools.errors.NotFoundError`. Checkpoints go to SQLite or PostgreSQL
(:mod:`agents.checkpoints`), so another process can resume a thread after a restart.
"""

from __future__ import annotations

import threading
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from agents.cases import validate_case, validate_decision
from agents.checkpoints import default_checkpointer
from agents.context import Context, default_model_spec
from agents.contract import Change, Violation
from agents.graph import build_graph
from agents.models import parse_spec
from agents.toolbox import Toolbox, build_toolbox
from agents.tracing import tracer_callbacks
from tools.errors import NotFoundError, ValidationError
from tools.faults import crash_point

AFTER_REVIEW = frozenset({"human_review", "apply", "record"})


def _same_decision(taken: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    if not taken:
        return True
    pairs = lambda d: sorted((c["field"], c["new"]) for c in d.get("changes") or [])  # noqa: E731
    return bool(taken.get("decision") == wanted["decision"] and pairs(taken) == pairs(wanted))


class TriageRunner:
    def __init__(
        self,
        *,
        model: str | None = None,
        checkpointer: BaseCheckpointSaver[Any] | None = None,
        store: Any = None,
        search: Any = None,
        toolbox: Toolbox | None = None,
    ) -> None:
        self.model = model or default_model_spec()
        parse_spec(self.model)  # fail fast on a bad spec, before any case runs
        self.checkpointer = checkpointer if checkpointer is not None else default_checkpointer()
        self.graph = build_graph().compile(checkpointer=self.checkpointer, name="repairdesk-triage")
        self._store, self._search = store, search
        self._toolbox = toolbox
        self._lock = threading.Lock()

    @property
    def toolbox(self) -> Toolbox:
        """Built on first use: resuming a thread needs no tools, search index or embedding model."""
        with self._lock:
            if self._toolbox is None:
                self._toolbox = build_toolbox(store=self._store, search=self._search)
            return self._toolbox

    @staticmethod
    def _config(thread_id: str) -> RunnableConfig:
        if not isinstance(thread_id, str) or not thread_id.strip():
            raise ValidationError("thread_id must be a non-empty string", source=repr(thread_id))
        return {"configurable": {"thread_id": thread_id}}

    def _context(self, toolbox: Toolbox | None) -> Context:
        return Context(model=self.model, toolbox=toolbox)

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        config = self._config(thread_id)
        validate_case(
            case, source=str(case.get("case_id") or thread_id) if isinstance(case, dict) else thread_id
        )
        snapshot = self.graph.get_state(config)
        if snapshot.values.get("proposal") and (snapshot.interrupts or not snapshot.next):
            return dict(snapshot.values["proposal"])
        callbacks = tracer_callbacks()  # OpenTelemetry spans, only where a tracer provider is set up
        if callbacks:
            config = {**config, "callbacks": callbacks}
        if snapshot.values:
            # A run that stopped before review (crash, provider error): continue from its checkpoint.
            self.graph.invoke(None, config, context=self._context(self.toolbox), durability="sync")
        else:
            self.graph.invoke(
                {"case": case, "model": self.model},
                config,
                context=self._context(self.toolbox),
                durability="sync",
            )
        proposal = self.graph.get_state(config).values.get("proposal")
        if proposal is None:  # pragma: no cover - the graph always proposes before it interrupts
            raise ValidationError("triage produced no proposal", source=thread_id)
        return dict(proposal)

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        config = self._config(thread_id)
        snapshot = self.graph.get_state(config)
        if not snapshot.values:
            raise NotFoundError("no triage thread with this id", source=thread_id)
        checked = validate_decision(decision, source=thread_id)
        # A crash can stop the thread anywhere after review began: waiting at the interrupt, inside
        # human_review (the resume value stored, the node's writes not), between a node's saved
        # writes and its step's checkpoint, after it (the decision in the state), after apply. Each
        # pass moves it on; three suffice, a fourth means it is stuck.
        for _ in range(4):
            values = snapshot.values
            if values.get("result") and not snapshot.next and not snapshot.tasks:  # finished
                if not _same_decision(values["result"].get("decision"), checked):
                    raise ValidationError("the thread was already decided differently", source=thread_id)
                return dict(values["result"])
            if not _same_decision(values.get("decision"), checked):
                raise ValidationError("the thread was already decided differently", source=thread_id)
            command: Command[Any] | None
            if snapshot.interrupts:
                command = Command(resume=checked)
            elif (snapshot.next and set(snapshot.next) <= AFTER_REVIEW) or (
                not snapshot.next and (values.get("decision") or values.get("result"))
            ):
                # Run on from the checkpoint: a stored resume value is used again, and a step whose
                # task writes were saved before its checkpoint (next is then empty, the writes already
                # in the values) is completed without running the task twice.
                command = None
            else:
                where = ", ".join(snapshot.next) or "nothing"
                raise ValidationError(
                    f"the thread is not waiting for a review decision (next: {where})", source=thread_id
                )
            # apply and record need no tools: no toolbox, so a fresh process resumes quickly.
            for update in self.graph.stream(
                command, config, context=self._context(None), durability="sync", stream_mode="updates"
            ):
                for node in update if isinstance(update, dict) else ():
                    crash_point(f"graph.after_{node}")
            snapshot = self.graph.get_state(config)
        raise ValidationError("the thread did not finish after the decision", source=thread_id)

    def check_edit(self, thread_id: str, changes: list[Change]) -> list[Violation]:
        """See the module docstring."""
        from agents.contract import Proposal
        from agents.guard import check, evidence_by_ref

        values = self.graph.get_state(self._config(thread_id)).values
        if not values:
            raise NotFoundError("no triage thread with this id", source=thread_id)
        case = dict(values.get("case") or {})
        case["exception_code"] = values.get("exception_code")
        # Only the edit's values and their evidence are checked here: `four_eyes` is set so the
        # approval threshold (the decision service's business) raises nothing.
        edit = Proposal(action="repair", changes=changes, four_eyes=True)
        return check(
            edit,
            case=case,
            payment=values.get("payment"),
            findings=values.get("findings") or [],
            results_by_ref=evidence_by_ref(values.get("results_by_ref") or {}),
        )

    def take_usage(self, thread_id: str) -> dict[str, Any] | None:
        """See the module docstring."""
        # Only a model already built is consulted: Toolbox.chat_model would build one (and load a GGUF
        # file) for an idempotent re-run that called nothing.
        model = self._toolbox._models.get(self.model) if self._toolbox is not None else None
        take = getattr(getattr(model, "ledger", None), "take", None)
        usage = take(thread_id) if callable(take) else None
        return dict(usage) if isinstance(usage, dict) else None

    def get_state(self, thread_id: str) -> dict[str, Any] | None:
        snapshot = self.graph.get_state(self._config(thread_id))
        if not snapshot.values:
            return None
        values = snapshot.values
        result = values.get("result")
        if result is not None and not snapshot.next:
            status = result["status"]
        elif snapshot.interrupts:
            status = "pending_review"
        else:
            status = "running"
        return {
            "thread_id": thread_id,
            "status": status,
            "proposal": values.get("proposal"),
            "result": result,
            "next": list(snapshot.next),
        }
