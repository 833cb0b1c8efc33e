"""The LangChain wrappers: one tool per catalogue name, typed schemas, dict results with refs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.tools import BaseTool

from tools.agent_tools import build_tools
from tools.catalog import TOOL_NAMES
from tools.db import get_engine
from tools.errors import RepairDeskError, ValidationError
from tools.refdata.loader import load_file
from tools.refdata.store import RefDataStore

DEMO = Path(__file__).resolve().parents[2] / "corpora" / "demo" / "refdata.json"


@dataclass
class FakeHit:
    doc_id: str
    section: str
    title: str
    text: str
    score: float


class FakeSearch:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, int]] = []

    def search(self, query: str, code: str | None = None, k: int = 5) -> list[FakeHit]:
        self.calls.append((query, code, k))
        return [FakeHit("SOP-AC01", "3.2", "Repair from SSI", "Use get_ssi ...", 0.91)]


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BaseTool]:
    store = RefDataStore(get_engine(f"sqlite:///{tmp_path_factory.mktemp('agent_tools') / 'demo.db'}"))
    load_file(DEMO, store)
    return build_tools(store, FakeSearch())


def test_keys_are_the_catalogue(tools: dict[str, BaseTool]) -> None:
    assert set(tools) == TOOL_NAMES
    assert all(tool.name == name and tool.description for name, tool in tools.items())


def test_schemas_expose_the_catalogue_args(tools: dict[str, BaseTool]) -> None:
    expected = {
        "validate_iban": {"iban"},
        "lookup_bic": {"bic"},
        "search_banks": {"name", "country"},
        "get_customer": {"customer_id"},
        "find_customer": {"name", "country"},
        "lookup_account": {"iban"},
        "get_ssi": {"customer_id", "currency", "beneficiary_name"},
        "find_duplicates": {"uetr", "reference", "amount", "currency", "creditor_name", "creditor_iban",
                            "value_date", "window_days"},
        "match_invoices": {"customer_id", "amount", "currency", "references", "tolerance"},
        "lookup_reason_code": {"code"},
        "search_procedures": {"query", "code"},
        "check_recall_window": {"value_date", "rail"},
        "draft_investigation": {"kind", "reason", "payment"},
    }  # fmt: skip
    for name, args in expected.items():
        assert args <= set(tools[name].args), name


def test_playbook_style_calls_return_json_ready_dicts(tools: dict[str, BaseTool]) -> None:
    # Values as the playbook resolves them from a canonical Payment: Decimal amounts, date objects.
    calls: list[tuple[str, dict[str, Any], str | None]] = [
        ("validate_iban", {"iban": "DE31370400447986432661"}, "iban:DE31370400447986432661"),
        ("lookup_bic", {"bic": "UNCRITMM"}, "bank:UNCRITMM"),
        ("get_customer", {"customer_id": "C-1001"}, "customer:C-1001"),
        ("lookup_account", {"iban": "FR7630004000012243755298473"}, "account:FR7630004000012243755298473"),
        ("get_ssi", {"customer_id": "C-1001", "currency": "EUR", "beneficiary_name": "Müller Maschinenbau"},
         "ssi:C-1001:1"),
        ("find_duplicates", {"uetr": None, "amount": Decimal("48250.00"), "currency": "EUR",
                             "value_date": date(2026, 11, 17), "creditor_iban": "DE53700202703661185714"},
         "payment:PAYDUP0001"),
        ("match_invoices", {"customer_id": "C-1005", "amount": Decimal("2000.50"), "currency": "GBP",
                            "references": None}, "invoice:INV-5002+invoice:INV-5001"),
        ("check_recall_window", {"value_date": date(2026, 11, 12), "today": "2026-11-20"},
         "recall:2026-11-12:2026-11-20"),
        ("draft_investigation", {"kind": "mt199", "reason": "Closed account", "payment": {"reference": "R1"}},
         "draft:mt199:R1"),
    ]  # fmt: skip
    for name, args, ref in calls:
        result = tools[name].invoke(args)
        assert isinstance(result, dict), name
        json.dumps(result)  # JSON-ready: checkpoints and the audit trail store it
        assert result.get("ref") == ref, (name, result)


def test_match_invoices_accepts_a_single_reference_string(tools: dict[str, BaseTool]) -> None:
    result = tools["match_invoices"].invoke(
        {"customer_id": "C-1007", "amount": "7250.00", "currency": "EUR", "references": "INV-7001 INV-7002"}
    )
    assert result["match_type"] == "partial" and result["difference"] == "-250.00"


def test_match_invoices_takes_playbook_reference_lists(tools: dict[str, BaseTool]) -> None:
    # As SOP playbooks resolve them: [payment refs, remittance line numbers, remittance number], gaps None.
    args = {
        "customer_id": "C-1007",
        "amount": Decimal("7250.00"),
        "currency": "EUR",
        "references": [["Invoices INV-7001"], None, "INV-7002"],
        "tolerance": 0.01,
    }
    result = tools["match_invoices"].invoke(args)
    assert result["referenced"] == ["INV-7001", "INV-7002"] and result["match_type"] == "partial"


def test_draft_investigation_accepts_a_payment_model(tools: dict[str, BaseTool]) -> None:
    from pydantic import BaseModel

    class Payment(BaseModel):
        reference: str
        currency: str

    result = tools["draft_investigation"].invoke(
        {"kind": "camt.056", "reason": "DUPL", "payment": Payment(reference="R9", currency="EUR")}
    )
    assert result["ref"] == "draft:camt.056:R9" and result["fields"]["underlying"]["currency"] == "EUR"


def test_search_procedures_uses_the_given_search(tools: dict[str, BaseTool]) -> None:
    result = tools["search_procedures"].invoke({"query": "incorrect account", "code": "AC01"})
    assert result["hits"][0]["doc_id"] == "SOP-AC01" and result["hits"][0]["section"] == "3.2"
    assert result["found"]


def test_search_is_built_lazily(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tools.retrieval.search as retrieval

    built: list[FakeSearch] = []

    def open_search() -> FakeSearch:
        built.append(FakeSearch())
        return built[-1]

    # raising=True: the tools must use the module's real factory, not an attribute only a test adds.
    monkeypatch.setattr(retrieval, "open_search", open_search)
    lazy_tools = build_tools(RefDataStore(get_engine(f"sqlite:///{tmp_path / 'empty.db'}")))
    assert built == []
    lazy_tools["search_procedures"].invoke({"query": "closed account", "code": "AC04", "k": 3})
    lazy_tools["search_procedures"].invoke({"query": "again"})
    assert len(built) == 1 and built[0].calls[0] == ("closed account", "AC04", 3)


def test_bad_arguments_raise_typed_errors(tools: dict[str, BaseTool]) -> None:
    with pytest.raises(RepairDeskError):
        tools["match_invoices"].invoke({"customer_id": "C-1005", "amount": "lots", "currency": "GBP"})
    with pytest.raises(RepairDeskError):
        tools["check_recall_window"].invoke({"value_date": "yesterday"})
    # Refused by the schema itself: still a typed error naming the tool and the argument.
    with pytest.raises(ValidationError, match=r"get_customer\.customer_id"):
        tools["get_customer"].invoke({"customer_id": ["C-1001"]})
    with pytest.raises(ValidationError, match=r"draft_investigation\.kind"):
        tools["draft_investigation"].invoke({"kind": "telex", "reason": "x"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(sorted(TOOL_NAMES - {"search_procedures"})),
    args=st.dictionaries(
        st.sampled_from(["iban", "bic", "name", "country", "customer_id", "currency", "amount", "uetr",
                         "value_date", "references", "tolerance", "kind", "reason", "payment", "code",
                         "window_days", "beneficiary_name"]),
        st.one_of(st.text(max_size=30), st.none(), st.integers(), st.floats(), st.lists(st.text(max_size=4))),
        max_size=6,
    ),
)  # fmt: skip
def test_fuzzed_tool_calls_raise_only_typed_errors(tools: dict[str, BaseTool], name: str, args: dict) -> None:
    try:
        result = tools[name].invoke(args)
    except RepairDeskError:
        return
    assert isinstance(result, dict)
    json.dumps(result)
