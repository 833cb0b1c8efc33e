"""The evidence trail: which result the guard checks a cited ref against."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.contract import Change, Proposal
from agents.evidence import Recorder
from agents.guard import check, evidence_by_ref


class ScriptedToolbox:
    """Answers each call with the next scripted result (the Recorder needs only ``accepts`` and ``call``)."""

    def __init__(self, results: list[dict[str, Any]]) -> None:
        self.results = list(results)

    def accepts(self, tool: str, arg: str) -> bool:
        return False

    def call(self, tool: str, args: Mapping[str, Any]) -> dict[str, Any]:
        return self.results.pop(0)


def _ssi(iban: str, name_score: float) -> dict[str, Any]:
    return {"found": True, "ref": "ssi:C-1:1", "ssi_id": "C-1:1", "iban": iban, "name_score": name_score}


GOOD, OFF_SCRIPT = "DE31370400447986432616", "GB29NWBK60161331926819"


def test_a_step_result_replaces_an_earlier_off_script_result_under_the_same_ref() -> None:
    recorder = Recorder(ScriptedToolbox([_ssi(OFF_SCRIPT, 0.99), _ssi(GOOD, 0.97)]), {})  # type: ignore[arg-type]
    recorder.call("get_ssi", {"customer_id": "C-1", "currency": "GBP"}, by="model")  # off-script
    recorder.call("get_ssi", {"customer_id": "C-1", "currency": "EUR"}, step="ssi", by="model")
    assert recorder.results_by_ref["ssi:C-1:1"]["result"]["iban"] == GOOD
    assert [c["result_ref"] for c in recorder.tool_calls] == ["ssi:C-1:1", "ssi:C-1:1"]


def test_an_off_script_call_never_replaces_the_step_result() -> None:
    recorder = Recorder(ScriptedToolbox([_ssi(GOOD, 0.97), _ssi(OFF_SCRIPT, 0.99)]), {})  # type: ignore[arg-type]
    recorder.call("get_ssi", {"customer_id": "C-1", "currency": "EUR"}, step="ssi")
    recorder.call("get_ssi", {"customer_id": "C-1", "currency": "GBP"}, by="model")
    assert recorder.results_by_ref["ssi:C-1:1"]["result"]["iban"] == GOOD


def test_the_guard_checks_the_step_result_not_the_off_script_one() -> None:
    recorder = Recorder(ScriptedToolbox([_ssi(OFF_SCRIPT, 0.99), _ssi(GOOD, 0.97)]), {})  # type: ignore[arg-type]
    recorder.call("get_ssi", {"customer_id": "C-1", "currency": "GBP"}, by="model")
    recorder.call("get_ssi", {"customer_id": "C-1", "currency": "EUR"}, step="ssi", by="model")
    change = {
        "field": "payment.creditor.account.iban",
        "old": "X",
        "new": OFF_SCRIPT,
        "evidence": ["ssi:C-1:1"],
    }
    evidence = evidence_by_ref(recorder.results_by_ref)
    proposal = Proposal(action="repair", changes=[Change.model_validate(change)], confidence=0.9)
    violations = check(proposal, case={}, payment={}, findings=[], results_by_ref=evidence)
    assert [v.code for v in violations] == ["untrusted_source"], violations
    proposal = proposal.revised(changes=[Change.model_validate({**change, "new": GOOD})])
    assert check(proposal, case={}, payment={}, findings=[], results_by_ref=evidence) == []
