"""The graph's state: one JSON-serialisable dict per case, checkpointed after every node.

Everything in it is plain JSON (strings, numbers, lists, dicts) so that SQLite and PostgreSQL
checkpoints written by one process can be read by another one, and by LangGraph's own server; the
contract's models (:mod:`agents.contract`) are validated on the way in and dumped on the way out; the
tool loop's ``messages`` are LangChain messages, which LangGraph's serializer writes the same way.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class TriageState(TypedDict, total=False):
    """State of one triage thread; each node returns the keys it sets."""

    case: dict[str, Any]  # the contract's exception case, as received
    model: str  # the model spec this thread was started with
    message_format: str  # "fin" | "xml" | "payment": the format `apply` writes back
    payment: dict[str, Any] | None  # canonical Payment (contract JSON: amounts as strings)
    findings: list[dict[str, Any]]  # findings of the message parse
    documents: list[dict[str, Any]]  # canonical extractions of the attached documents
    document_errors: list[dict[str, str]]  # documents that could not be read: {"name", "reason"}
    exception_code: str
    classification_confidence: float
    classified_from: list[str]  # why an UNKNOWN case got its code
    text_reading: dict[str, Any]  # the narrative head's top label, probability and margin on the notes
    consistency: dict[str, Any]  # code-consistency verdict (tools/payments/code_consistency.py)
    evidence_only: dict[str, Any] | None  # a given code withheld: what the evidence alone is classified as
    second_opinion: dict[str, Any] | None  # the playbook's outcome under that code (agents/nodes/verify.py)
    calibration: dict[str, Any]  # the confidence calibrator's features and version (agents/confidence.py)
    procedure: dict[str, Any] | None  # {"doc_id", "title", "playbook"}: the procedure that claims the code
    citations: list[dict[str, Any]]
    evidence: dict[str, Any]  # step id -> tool result
    results_by_ref: dict[str, dict[str, Any]]  # result ref -> {"tool", "result"}
    tool_calls: list[dict[str, Any]]  # agents.contract.ToolCall JSON
    messages: Annotated[list[AnyMessage], add_messages]  # the tool loop: agent <-> tools
    turns: int  # model turns taken in the tool loop (the step budget counts these)
    loop_notes: Annotated[list[dict[str, Any]], operator.add]  # what went wrong in the loop, said once
    plan: dict[str, Any]  # what the verifier decided, before the guard
    proposal: dict[str, Any]  # agents.contract.Proposal JSON (why JSON: see that module)
    decision: dict[str, Any]  # agents.contract.Decision JSON, as agents.cases.validate_decision made it
    result: dict[str, Any]
