"""Generalisation mechanisms through the whole graph: party resolution without a customer id, exact
duplicates, unique subset-sum cash application, and reading an attached MT199's narrative."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import create_engine

from agents.runner import TriageRunner
from agents.toolbox import Toolbox
from tests.agents.fixtures import BAD_IBAN, GOOD_IBAN, REFDATA, ac01_case, mt103
from tools.agent_tools import build_tools
from tools.refdata.loader import load
from tools.refdata.store import RefDataStore

UETR = "3f2b4c1e-8d2a-4f6b-9c1d-2e3f4a5b6c7d"  # the one mt103() carries


@pytest.fixture
def runner(tmp_path: Path, procedures: list[Any]) -> TriageRunner:
    data = copy.deepcopy(REFDATA)
    data["payments"] = [
        {"reference": "REF-9001", "uetr": UETR, "amount": "12500.00", "currency": "EUR",
         "value_date": "2026-11-20", "creditor_name": "Muster Maschinenbau GmbH", "creditor_iban": GOOD_IBAN},
    ]  # fmt: skip
    data["open_invoices"] = [
        {"invoice_number": f"MM-{n}", "customer_id": "C-9001", "currency": "EUR", "amount": amount}
        for n, amount in ((1, "100.00"), (2, "250.00"), (3, "400.00"), (4, "975.50"))
    ]
    store = RefDataStore(create_engine(f"sqlite:///{tmp_path / 'ref.db'}"))
    load(data, store)
    toolbox = Toolbox(tools=build_tools(store), procedures=procedures, search=None)
    return TriageRunner(checkpointer=InMemorySaver(), toolbox=toolbox)


def _not_a_resend(message: str) -> str:
    """``message`` with its own reference, amount and UETR: as built, it is the stored REF-9001 again,
    and the code-consistency check rightly escalates a repair of a possible duplicate."""
    return (
        message.replace(":20:REF-9001", ":20:REF-9002")
        .replace("EUR12500,00", "EUR13400,00")
        .replace(UETR, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
    )


def _tools(proposal: dict[str, Any]) -> list[str]:
    return [call["tool"] for call in proposal["tool_calls"]]


def test_without_customer_id_the_beneficiary_identifies_the_customer(runner: TriageRunner) -> None:
    case = ac01_case()
    del case["customer_id"]
    proposal = runner.start(case, "gen-1")
    assert proposal["action"] == "repair", proposal["rationale"]
    assert [(c["field"], c["new"]) for c in proposal["changes"]] == [
        ("payment.creditor.account.iban", GOOD_IBAN)
    ]
    assert _tools(proposal)[:2] == ["resolve_party", "validate_iban"]
    assert proposal["guard"]["passed"]


def test_an_unidentified_beneficiary_is_not_guessed(runner: TriageRunner) -> None:
    case = ac01_case(message=mt103(iban=BAD_IBAN, name="Somebody Else Trading Ltd"))
    del case["customer_id"]
    proposal = runner.start(case, "gen-2")
    assert proposal["action"] == "request_info" and proposal["changes"] == []
    assert "get_ssi" not in _tools(proposal)


def test_an_exact_resend_is_returned_not_released(runner: TriageRunner) -> None:
    case = {
        "case_id": "T-AM05",
        "exception_code": "AM05",
        "customer_id": "C-9001",
        "message": mt103(iban=GOOD_IBAN),
    }
    proposal = runner.start(case, "gen-3")
    assert proposal["action"] == "return", proposal["rationale"]
    assert "payment:REF-9001" in proposal["rationale"]


def test_cash_equal_to_one_combination_of_open_invoices_is_applied(runner: TriageRunner) -> None:
    message = mt103(iban=GOOD_IBAN, amount="1225,50", ref="CASH-1")
    case = {
        "case_id": "T-CASH",
        "exception_code": "UNAPPLIED_CASH",
        "customer_id": "C-9001",
        "message": message,
    }
    proposal = runner.start(case, "gen-4")
    assert proposal["action"] == "no_action", proposal["rationale"]
    assert "MM-2" in proposal["rationale"] and "MM-4" in proposal["rationale"]
    assert "MM-1" not in proposal["rationale"]


def test_an_unknown_case_reads_the_attached_mt199(
    runner: TriageRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the rule fallback (no classifier artefact), so the test needs no embedding model."""
    monkeypatch.setattr("agents.nodes.classify.default_classifier", lambda: None)
    mt199 = (
        "{1:F01BANKDEFFAXXX0000000000}{2:O1991200261120COBADEFFAXXX00000000002611201201N}{4:\n"
        ":20:Q-1\n:21:REF-9001\n:79:YOUR PAYMENT REF-9001: ACCOUNT CLOSED\nPLS ADVISE\n-}"
    )
    document = {"name": "mt199.fin", "content_base64": base64.b64encode(mt199.encode()).decode()}
    case = ac01_case(exception_code="UNKNOWN", message=mt103(iban=GOOD_IBAN), documents=[document])
    proposal = runner.start(case, "gen-5")
    assert proposal["exception_code"] == "AC04"


def test_a_print_format_iban_in_pacs008_is_written_back_in_electronic_format(runner: TriageRunner) -> None:
    """The message's IBAN is right but in print format (spaces, lower case), which ISO 20022 forbids:
    the parser flags it, classify reads the finding, and the SSI that matches it is written back."""
    from tools.extract import extract_bytes
    from tools.messages.iso20022 import write_pacs008
    from tools.messages.model import Payment, to_json_dict

    parsed = extract_bytes(_not_a_resend(mt103(iban=GOOD_IBAN)).encode(), "fixture")[0].payment
    assert parsed is not None
    payment = Payment.model_validate({**to_json_dict(parsed), "message_type": "pacs.008"})
    printed = " ".join(GOOD_IBAN[i : i + 4] for i in range(0, len(GOOD_IBAN), 4)).lower()
    xml = (
        write_pacs008(payment).decode("utf-8").replace(f"<IBAN>{GOOD_IBAN}</IBAN>", f"<IBAN>{printed}</IBAN>")
    )
    assert printed in xml
    proposal = runner.start(ac01_case(exception_code="UNKNOWN", message=xml), "gen-print")
    assert proposal["exception_code"] == "AC01"
    assert any("IBAN_FORMAT" in reason for reason in proposal["classified_from"])
    assert [(c["old"], c["new"]) for c in proposal["changes"]] == [(printed, GOOD_IBAN)], proposal[
        "rationale"
    ]
    assert proposal["guard"]["passed"]
    result = runner.resume("gen-print", {"decision": "approve"})
    assert result["status"] == "applied"
    assert f"<IBAN>{GOOD_IBAN}</IBAN>" in result["repaired_message"]


def test_a_name_mismatch_narrative_routes_to_be01(
    runner: TriageRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule fallback only (no classifier artefact): "name does not match" is BE01, not a remittance
    mismatch, and the name is repaired from the SSI whose account is the message's."""
    monkeypatch.setattr("agents.nodes.classify.default_classifier", lambda: None)
    case = ac01_case(
        exception_code="UNKNOWN",
        message=_not_a_resend(mt103(iban=GOOD_IBAN, name="MUSTER MASCHINENBAU")),
        notes="Return reason narrative: beneficiary name does not match the account holder name.",
    )
    proposal = runner.start(case, "gen-be01")
    assert proposal["exception_code"] == "BE01", proposal["classified_from"]
    assert proposal["action"] == "repair", proposal["rationale"]
    assert [(c["field"], c["new"]) for c in proposal["changes"]] == [
        ("payment.creditor.name", "Muster Maschinenbau GmbH")
    ]


@pytest.mark.parametrize("code", ["AC01", "UNKNOWN"])
def test_one_triage_reads_the_narrative_once(
    runner: TriageRunner, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    """Classify reads the notes for the code, the consistency evidence, the calibrator's features and
    the evidence-only code: each reading is a MiniLM pass, so the text is embedded once."""
    read: list[str] = []

    class Counting:
        def rank(self, text: str) -> list[tuple[str, float]]:
            read.append(text)
            return [("NONE", 0.9), ("AC01", 0.1)]

    monkeypatch.setattr("agents.nodes.classify.default_classifier", Counting)
    case = ac01_case(exception_code=code, notes="Customer says the IBAN was mistyped by the clerk.")
    runner.start(case, f"gen-once-{code}")
    assert len(read) == 1 and "mistyped" in read[0], read
