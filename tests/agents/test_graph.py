"""The triage graph end to end through TriageRunner: propose, review, apply, record, idempotency."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.runner import TriageRunner
from tests.agents.conftest import CountingToolbox
from tests.agents.fixtures import BAD_IBAN, GOOD_IBAN, OTHER_IBAN, ac01_case, mt103
from tools import config
from tools.errors import NotFoundError, ValidationError
from tools.extract import extract_bytes


@pytest.fixture
def runner(toolbox: CountingToolbox) -> TriageRunner:
    return TriageRunner(checkpointer=InMemorySaver(), toolbox=toolbox)


def test_ac01_proposes_ssi_repair_with_evidence(runner: TriageRunner) -> None:
    proposal = runner.start(ac01_case(), "t-1")
    assert proposal["status"] == "pending_review"
    assert proposal["case_id"] == "T-AC01" and proposal["exception_code"] == "AC01"
    assert proposal["action"] == "repair"
    assert proposal["changes"] == [
        {
            "field": "payment.creditor.account.iban",
            "old": BAD_IBAN,
            "new": GOOD_IBAN,
            "evidence": ["ssi:C-9001:1"],
        }
    ]
    assert proposal["guard"] == {"passed": True, "violations": []}
    assert proposal["model"] == "playbook" and proposal["procedure"] == "SOP-AC01"
    assert {"tool": "get_ssi", "result_ref": "ssi:C-9001:1"}.items() <= proposal["tool_calls"][1].items()
    assert proposal["citations"] and proposal["citations"][0]["doc_id"] == "SOP-AC01"
    assert 0 < proposal["confidence"] <= 1


def test_approve_writes_a_repaired_mt103_that_reparses(
    runner: TriageRunner, toolbox: CountingToolbox
) -> None:
    runner.start(ac01_case(), "t-2")
    tools_before = len(toolbox.calls)
    result = runner.resume("t-2", {"decision": "approve", "user": "checker"})
    assert result["status"] == "applied"
    assert result["final_changes"][0]["new"] == GOOD_IBAN
    reparsed = extract_bytes(result["repaired_message"].encode(), "repaired")[0]
    assert reparsed.payment is not None and reparsed.payment.creditor is not None
    assert (
        reparsed.payment.creditor.account is not None and reparsed.payment.creditor.account.iban == GOOD_IBAN
    )
    assert str(reparsed.payment.amount) == "12500.00" and reparsed.payment.currency == "EUR"
    assert len(toolbox.calls) == tools_before  # review and apply run no tools
    # Idempotent: resuming a finished thread with its decision returns the stored result; nothing is
    # recorded twice. Another decision is refused: the caller's record and the checkpoint disagree.
    again = runner.resume("t-2", {"decision": "approve", "user": "checker"})
    assert again == result
    with pytest.raises(ValidationError, match="decided differently"):
        runner.resume("t-2", {"decision": "reject"})
    # Labels come only from the service's database (issue 13): the graph writes no label file.
    assert not (config.data_dir() / "decisions").exists()


def test_start_is_idempotent(runner: TriageRunner, toolbox: CountingToolbox) -> None:
    first = runner.start(ac01_case(), "t-3")
    calls = len(toolbox.calls)
    assert calls >= 2
    assert runner.start(ac01_case(), "t-3") == first
    assert len(toolbox.calls) == calls
    state = runner.get_state("t-3")
    assert state is not None and state["status"] == "pending_review" and state["next"] == ["human_review"]
    assert runner.get_state("nope") is None


def test_reject_and_edit(runner: TriageRunner) -> None:
    runner.start(ac01_case(), "t-4")
    rejected = runner.resume("t-4", {"decision": "reject", "comment": "wrong customer"})
    assert (
        rejected["status"] == "rejected"
        and rejected["repaired_message"] is None
        and rejected["final_changes"] == []
    )
    runner.start(ac01_case(), "t-5")
    edited = runner.resume(
        "t-5",
        {
            "decision": "edit",
            "changes": [{"field": "payment.creditor.account.iban", "new": OTHER_IBAN}],
            "user": "a",
        },
    )
    assert edited["status"] == "applied"
    # Intended: the applied change is spelled out again, as the proposal's was.
    assert edited["final_changes"] == [
        {
            "field": "payment.creditor.account.iban",
            "old": BAD_IBAN,
            "new": OTHER_IBAN,
            "evidence": ["analyst"],
        }
    ]
    assert f":59:/{OTHER_IBAN}" in edited["repaired_message"]


def test_edit_of_the_amount_fails_without_a_message(runner: TriageRunner) -> None:
    runner.start(ac01_case(), "t-6")
    result = runner.resume("t-6", {"decision": "edit", "changes": [{"field": "payment.amount", "new": "1"}]})
    assert result["status"] == "failed" and result["repaired_message"] is None
    assert "amount" in result["error"]


def test_name_mismatch_requests_info(runner: TriageRunner) -> None:
    proposal = runner.start(ac01_case(message=mt103(name="Completely Different Trading Ltd")), "t-7")
    assert proposal["action"] in {"request_info", "escalate"} and proposal["changes"] == []


def test_sanctions_notes_escalate(runner: TriageRunner) -> None:
    proposal = runner.start(ac01_case(notes="Screening: possible OFAC sanctions match on creditor"), "t-8")
    assert proposal["action"] == "escalate" and proposal["changes"] == []


def test_unknown_code_is_classified_from_findings_and_notes(runner: TriageRunner) -> None:
    proposal = runner.start(
        ac01_case(exception_code="UNKNOWN", notes="beneficiary bank says invalid IBAN"), "t-9"
    )
    assert proposal["exception_code"] == "AC01"
    assert 0 < proposal["classification_confidence"] < 0.99
    assert proposal["action"] == "repair"
    nothing = runner.start(
        ac01_case(exception_code="UNKNOWN", message=mt103(iban=GOOD_IBAN), notes="hello"), "t-10"
    )
    assert nothing["exception_code"] == "UNKNOWN" and nothing["action"] == "escalate"


def test_bad_inputs_raise_typed_errors(runner: TriageRunner) -> None:
    with pytest.raises(ValidationError, match="message"):
        runner.start({"exception_code": "AC01"}, "t-11")
    with pytest.raises(NotFoundError):
        runner.resume("never-started", {"decision": "approve"})
    runner.start(ac01_case(), "t-12")
    with pytest.raises(ValidationError, match="decision"):
        runner.resume("t-12", {"decision": "maybe"})
    with pytest.raises(ValidationError):
        TriageRunner(model="gpt:4", checkpointer=InMemorySaver())


class _StubSearch:
    """Procedure search returning fixed hits; records the filter it was called with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def search(
        self, query: str, *, code: str | None = None, message_type: str | None = None, k: int = 5
    ) -> list[object]:
        from tools.retrieval.search import Hit

        self.calls.append({"query": query, "code": code, "k": k})
        return [
            Hit(doc_id="SOP-OTHER", section="2", title="x", text="x", score=0.9),
            Hit(doc_id="SOP-AC01", section="3.2", title="x", text="x", score=0.8),
            Hit(doc_id="SOP-AC01", section="3.2", title="x", text="x", score=0.7),
            Hit(doc_id="SOP-AC01", section="4", title="x", text="x", score=0.6),
        ]


def test_citations_come_from_search_filtered_by_code(toolbox: CountingToolbox) -> None:
    stub = _StubSearch()
    toolbox.search = stub
    proposal = TriageRunner(checkpointer=InMemorySaver(), toolbox=toolbox).start(ac01_case(), "t-cite")
    assert stub.calls and stub.calls[0]["code"] == "AC01"
    # First the decision-table row of the rule applied (the repair from the SSI), then the routed
    # procedure's retrieved sections, de-duplicated, best first.
    assert proposal["action"] == "repair"
    assert proposal["citations"] == [
        {"doc_id": "SOP-AC01", "section": "3.3", "row": 2},
        {"doc_id": "SOP-AC01", "section": "3.2"},
        {"doc_id": "SOP-AC01", "section": "4"},
    ]


def _fixture_payment() -> dict[str, object]:
    from tools.messages.model import to_json_dict

    payment = extract_bytes(mt103().encode(), "fixture")[0].payment
    assert payment is not None
    return to_json_dict(payment)


def test_pacs008_input_is_repaired_as_pacs008(runner: TriageRunner) -> None:
    from tools.messages.iso20022 import write_pacs008
    from tools.messages.model import Payment

    payment = Payment.model_validate({**_fixture_payment(), "message_type": "pacs.008"})
    xml = write_pacs008(payment).decode("utf-8")
    proposal = runner.start(ac01_case(message=xml), "t-xml")
    assert proposal["action"] == "repair" and proposal["changes"][0]["new"] == GOOD_IBAN
    result = runner.resume("t-xml", {"decision": "approve"})
    assert result["status"] == "applied" and result["repaired_message"].lstrip().startswith("<")
    reparsed = extract_bytes(result["repaired_message"].encode(), "repaired")[0]
    assert reparsed.doc_type == "iso20022.pacs.008" and reparsed.payment is not None
    assert reparsed.payment.creditor is not None and reparsed.payment.creditor.account is not None
    assert reparsed.payment.creditor.account.iban == GOOD_IBAN


def test_payment_object_input_is_repaired_as_mt103(runner: TriageRunner) -> None:
    case = ac01_case(payment=_fixture_payment())
    del case["message"]
    runner.start(case, "t-obj")
    result = runner.resume("t-obj", {"decision": "approve"})
    assert result["status"] == "applied" and result["repaired_message"].startswith("{1:")
    assert f":59:/{GOOD_IBAN}" in result["repaired_message"]


def test_an_edit_of_address_lines_applies_them_as_lines(runner: TriageRunner) -> None:
    """List fields keep their lines through the decision (they were once turned into a list's repr,
    which the payment model refused, failing the case)."""
    runner.start(ac01_case(), "t-lines")
    lines = ["Hauptstr. 2", "10115 Berlin"]
    edited = runner.resume(
        "t-lines",
        {
            "decision": "edit",
            "changes": [{"field": "payment.creditor.address_lines", "new": lines}],
            "user": "a",
        },
    )
    assert edited["status"] == "applied", edited.get("error")
    assert [c["new"] for c in edited["final_changes"]] == [lines]
    assert "Hauptstr. 2\n10115 Berlin" in edited["repaired_message"]


def test_a_change_value_that_is_neither_text_nor_lines_is_refused(runner: TriageRunner) -> None:
    runner.start(ac01_case(), "t-obj")
    with pytest.raises(ValidationError, match=r"changes\[0\]"):
        runner.resume(
            "t-obj", {"decision": "edit", "changes": [{"field": "payment.purpose", "new": {"a": 1}}]}
        )


def _state(runner: TriageRunner, thread: str) -> dict[str, object]:
    return dict(runner.graph.get_state({"configurable": {"thread_id": thread}}).values)


def test_second_opinion_runs_the_procedure_the_evidence_alone_points_to(runner: TriageRunner) -> None:
    # The right code: the evidence alone (an IBAN failing its checksum) gives AC01 and the same repair.
    right = runner.start(ac01_case(), "t-so-1")
    state = _state(runner, "t-so-1")
    assert state["evidence_only"] == {"code": "AC01", "contradictions": []}
    second = state["second_opinion"]
    assert isinstance(second, dict) and second["code"] == "AC01" and second["action"] == right["action"]
    assert second["changes"] == [["payment.creditor.account.iban", GOOD_IBAN]]
    features = state["calibration"]["features"]  # type: ignore[index]
    assert features["alone_same_known"] == 1.0 and features["alone_differs_known"] == 0.0
    # A wrong code: the proposal escalates on the contradiction, the evidence alone would repair the
    # IBAN: they differ, and the second opinion's own tool calls stay off the proposal's trail.
    wrong = runner.start(ac01_case(exception_code="BE04"), "t-so-2")
    state = _state(runner, "t-so-2")
    assert wrong["action"] == "escalate" and state["second_opinion"]["action"] == "repair"  # type: ignore[index]
    features = state["calibration"]["features"]  # type: ignore[index]
    assert features["alone_differs_known"] == 1.0 and features["alone_code_agrees"] == 0.0
    assert {c["step"] for c in wrong["tool_calls"]} <= {"ssi", "acct", "cust", None}
    # Withheld: the code came from the evidence, so the proposal is its own second opinion.
    runner.start(ac01_case(exception_code="UNKNOWN", notes="beneficiary bank says invalid IBAN"), "t-so-3")
    state = _state(runner, "t-so-3")
    assert state["evidence_only"] is None and state["second_opinion"] is None
    assert state["calibration"]["features"]["alone_same_known"] == 1.0  # type: ignore[index]
