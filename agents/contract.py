"""The typed contract between the agent's layers: one set of pydantic models for a repair proposal.

The graph's nodes, the guard, the API's response models, the UI, the evals and the LLM's structured
output all read and write these models; the JSON they dump is exactly CONTRACT.md's "Repair proposal"
and "Decision" (outside names never change here: the contract only ever adds names).

Graph state holds the models' JSON, not the models. LangGraph's checkpointers (SQLite, PostgreSQL,
the LangGraph server) write state with msgpack; langgraph-checkpoint 4.3 still rebuilds an unlisted
pydantic class on read but warns that this "will be blocked in a future version", blocks it now under
``LANGGRAPH_STRICT_MSGPACK=true``, and needs the very class importable in whichever process reads the
checkpoint (a Celery worker, the LangGraph server, the next release). Plain JSON round-trips
everywhere, so nodes cross the boundary explicitly: ``Proposal.model_validate(state["proposal"])`` on
the way in, :meth:`ContractModel.dump` on the way out (tests/agents/test_contract.py reads a
checkpoint back in a fresh process). ``dump`` omits what was never set, so a proposal's JSON keeps
exactly the keys its maker set (no ``step`` on a tool call that filled none, no ``confidence`` on an
edit).

Validators hold the invariants every layer relies on: the action is one of the contract's, each
probability lies in [0, 1], and a proposal whose guard passed (the agent's guard, not an analyst's
edit check) repairs with resolved values backed by evidence refs and changes nothing otherwise.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

Action = Literal["repair", "return", "escalate", "request_info", "investigate", "no_action"]
ProposalStatus = Literal["pending_review", "approved", "rejected", "applied", "failed"]
DecisionKind = Literal["approve", "edit", "reject"]
# A payment field's value as a change carries it: text, or lines for the line-by-line fields.
Value = str | list[str] | None


class ContractModel(BaseModel):
    # Unknown keys are refused: a typo in a layer is a validation error, not a silently lost field.
    model_config = ConfigDict(extra="forbid")

    def dump(self) -> dict[str, Any]:
        """The contract JSON: the keys that were set (see the module docstring), JSON-plain."""
        return self.model_dump(mode="json", exclude_unset=True)

    def revised(self, **update: Any) -> Self:
        """A validated copy with ``update`` applied (``model_copy`` would skip validation)."""
        return self.model_validate({**self.model_dump(exclude_unset=True), **update})


def _text_value(value: Any) -> Any:
    """Numbers become text (the contract's amounts and codes are strings); the rest is checked as is."""
    if isinstance(value, bool):
        return value  # refused by the type: True is no payment value
    return str(value) if isinstance(value, int | float | Decimal) else value


class Change(ContractModel):
    """One field change: ``new`` only ever comes from a trusted tool result named in ``evidence``."""

    field: str = Field(min_length=1, max_length=200, examples=["payment.creditor.account.iban"])
    old: Value = None
    new: Value = Field(default=None, examples=["DE89370400440532013000"])
    evidence: list[str] = Field(default_factory=list, examples=[["ssi:C-1042:1"]])
    # The executor's note to the guard (value taken from a tool result path); dropped by the guard,
    # so no outside schema shows it.
    trusted_path: SkipJsonSchema[bool | None] = None

    @field_validator("old", "new", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: Any) -> Any:
        return _text_value(value)

    def public(self) -> Change:
        """The change as the contract shows it, without the executor's note to the guard."""
        return Change.model_validate({k: v for k, v in self.dump().items() if k != "trusted_path"})


class Citation(ContractModel):
    """A cited procedure section; ``row`` is the decision-table row of the rule applied."""

    doc_id: str = Field(min_length=1, examples=["SOP-AC01"])
    section: str = Field(examples=["3.2"])
    row: int | None = None
    score: float | None = None  # the retriever's score of a retrieved section
    title: str | None = None
    text: str | None = None

    @field_validator("row", mode="before")
    @classmethod
    def _no_boolean_row(cls, value: Any) -> Any:
        # JSON true would pass as row 1 (bool is an int): a boolean names no row of a table.
        return None if isinstance(value, bool) else value


class ToolCall(ContractModel):
    """One tool invocation on the evidence trail (contract ``tool_calls``)."""

    tool: str = Field(min_length=1, examples=["get_ssi"])
    args: dict[str, JsonValue] = Field(default_factory=dict)
    result_ref: str | None = Field(default=None, examples=["ssi:C-1042:1"])
    step: str | None = None  # the playbook step it filled, when any
    by: str | None = None  # "playbook" or "model"


class Evidence(ContractModel):
    """A tool result as the guard checks it, indexed under each ref it holds (``results_by_ref``)."""

    tool: str
    result: dict[str, JsonValue]
    step: str | None = None


class Violation(ContractModel):
    code: str
    message: str
    field: str | None = None


class Guard(ContractModel):
    """The guard's verdict; an analyst's edit is checked too (``checked: "edit"``)."""

    passed: bool
    violations: list[Violation] = Field(default_factory=list)
    original_action: str | None = None  # what the planner proposed before the guard escalated
    checked: str | None = None
    analyst_asserted: list[str] | None = None
    second_approver_required: bool | None = None


class Versions(ContractModel):
    """What made the proposal (CONTRACT "Additions")."""

    model: str
    prompt: str
    procedures: str
    index: str
    calibrator: str


class Step(ContractModel):
    """The tool loop step by step, as the case page shows it (``agents/nodes/verify.py``)."""

    kind: str
    text: str = ""
    calls: list[str] | None = None
    ms: float | None = None
    tool: str | None = None
    status: str | None = None


class Draft(ContractModel):
    """An investigation draft a tool wrote (a message to a bank or customer)."""

    kind: str | None = None
    text: str | None = None
    fields: dict[str, JsonValue] | None = None
    ref: str


class Fallback(ContractModel):
    to: str
    reason: str
    attempts: int = Field(ge=0)


class DocumentError(ContractModel):
    name: str
    reason: str


class Proposal(ContractModel):
    """The contract's repair proposal (``GET /v1/exceptions/{id}``, ``repairdesk triage``)."""

    case_id: str | None = None
    status: ProposalStatus = "pending_review"
    exception_code: str | None = None
    classification_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    action: Action
    changes: list[Change] = Field(default_factory=list)
    rationale: str = ""
    citations: list[Citation] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    # The calibrated probability that an analyst approves the proposal unchanged; none on an edit.
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    guard: Guard | None = None  # filled by the guard node; every proposal that leaves the graph has it
    model: str = "playbook"
    procedure: str | None = None
    four_eyes: bool = False
    four_eyes_above: str | None = None
    classified_from: list[str] = Field(default_factory=list)
    versions: Versions | None = None
    straight_through: bool | None = None
    rejected_changes: list[Change] | None = None  # moved here by the guard: shown, never applied
    steps: list[Step] | None = None
    planner: dict[str, JsonValue] | None = None  # the LLM's note: candidates, choice, verifier
    fallback: Fallback | None = None
    drafts: list[Draft] | None = None
    document_errors: list[DocumentError] | None = None
    shadow: dict[str, JsonValue] | None = None  # a shadow calibrator's reading

    @model_validator(mode="after")
    def _guarded(self) -> Self:
        """A proposal the agent's guard passed repairs only with resolved, evidenced values."""
        if self.guard is None or not self.guard.passed or self.guard.checked == "edit":
            return self
        if self.changes and self.action != "repair":
            raise ValueError(f"a {self.action} proposal that passed the guard may not change fields")
        for change in self.changes:
            if change.new in (None, "", []):
                raise ValueError(f"{change.field}: a change that passed the guard needs a value")
            if not change.evidence:
                raise ValueError(f"{change.field}: a change's value must come with evidence refs")
        return self

    def edited(self, changes: list[Change], guard: Guard, rationale: str) -> Proposal:
        """The analyst's edit of this proposal: a repair with their changes, checked by ``guard``.

        The agent's confidence and rejected changes were about the agent's proposal: they go."""
        kept = self.model_dump(exclude_unset=True, exclude={"confidence", "rejected_changes"})
        update = {"action": "repair", "changes": changes, "guard": guard, "rationale": rationale}
        return Proposal.model_validate(kept | update)


class EditedChange(ContractModel):
    """A change an analyst sends with an ``edit`` (``old`` is read from the payment, not trusted)."""

    field: str = Field(min_length=1, max_length=200, examples=["payment.creditor.account.iban"])
    old: Value = None
    new: Value = Field(default=None, examples=["DE89370400440532013000"])
    evidence: list[str] = Field(default_factory=list, examples=[["ssi:C-1042:1"]])

    @field_validator("old", "new", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: Any) -> Any:
        return _text_value(value)


class _DecisionFields(ContractModel):
    decision: DecisionKind
    changes: list[EditedChange] = Field(default_factory=list, max_length=50)
    # The proposal version the decision was made on (GET's `proposal_version`, or `If-Match: "v<N>"`):
    # a decision on an older version is refused with 409 and changes nothing.
    proposal_version: int | None = Field(default=None, ge=1, le=1_000_000)
    # Why a reject, and what should have been done (CONTRACT "Additions"): stored with the decision.
    reason_code: str | None = Field(
        default=None, max_length=40, pattern=r"^[A-Za-z0-9_.:-]{1,40}$", examples=["wrong_account"]
    )
    correct_action: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[a-z_]{1,40}$",
        examples=["return", "escalate", "manual_repair"],
    )


class DecisionBody(_DecisionFields):
    """What an analyst sends (``POST /v1/exceptions/{id}/decision``); who sent it is the token's user."""

    comment: str = Field(default="", max_length=5000)


class Decision(_DecisionFields):
    """A decision with who made it: the graph's resume value (``human_review`` -> ``apply``)."""

    comment: str | None = Field(default=None, max_length=5000)
    user: str | None = None

    @model_validator(mode="after")
    def _edit_changes(self) -> Self:
        if self.decision == "edit" and not self.changes:
            raise ValueError("an edit needs the changed `changes`")
        return self


def error_text(exc: ValidationError) -> str:
    """A pydantic error as one line naming where it is: ``changes[0].new: Input should be ...``."""
    first = exc.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
    return f"{where}: {first['msg']}" if where else str(first["msg"])


class PlannerChoice(ContractModel):
    """The LLM's structured answer (:mod:`agents.llm_planner`): it chooses a candidate, never a value.

    No other field is allowed: a ``changes`` the model adds is a schema violation, not a change."""

    candidate: str = Field(min_length=1)
    rationale: str = Field(min_length=1, max_length=1200)
    confidence: float = Field(ge=0.0, le=1.0)
