"""The RAG suite with an LLM judge: answers are cached by prompt hash, failures are counted.

The judge is a scripted chat model (tests only) that answers each RAGAS prompt by its output schema
and returns junk for the faithfulness verdicts, so those must show up as counted failures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from evals import datasets
from evals.base import SuiteOptions, write_run

pytestmark = pytest.mark.slow

ANSWERS = {
    '"title": "StatementGeneratorOutput"': {"statements": ["The payment is repaired from the SSI."]},
    '"title": "ResponseRelevanceOutput"': {
        "question": "What should be done with the payment?",
        "noncommittal": 0,
    },
    '"title": "Verification"': {"reason": "The context states the procedure.", "verdict": 1},
    '"title": "WorkflowOutput"': {"user_goal": "Repair the payment.", "end_state": "Repair proposed."},
    '"title": "CompareOutcomeOutput"': {"reason": "Same outcome.", "verdict": "1"},
}


class ScriptedJudge(BaseChatModel):
    _prompts: list[str] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-judge"

    @property
    def prompts(self) -> list[str]:
        return self._prompts

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **_: Any
    ) -> ChatResult:
        prompt = str(messages[-1].content)
        self._prompts.append(prompt)
        answer = "not JSON at all"  # NLI verdicts and format-fix requests: unparsable on purpose
        if "did not satisfy the constraints" not in prompt:
            for marker, value in ANSWERS.items():
                if marker in prompt:
                    answer = json.dumps(value)
                    break
        usage = {
            "input_tokens": len(prompt) // 4,
            "output_tokens": len(answer) // 4,
            "total_tokens": (len(prompt) + len(answer)) // 4,
        }
        message = AIMessage(content=answer, usage_metadata=usage)  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=message)])


@pytest.fixture()
def tiny_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool_config: Callable[..., Any]) -> Path:
    folder = tmp_path / "datasets"
    folder.mkdir()
    questions, _ = datasets.load("retrieval")
    cases, _ = datasets.load("agent_cases")
    repairs = [c for c in cases if c["expected"]["action"] == "repair"][:2]
    (folder / "retrieval.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions[:2]))
    (folder / "agent_cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in repairs))
    datasets.update("retrieval", directory=folder)
    datasets.update("agent_cases", origin="generated", directory=folder)
    monkeypatch.setenv("REPAIRDESK_EVAL_DATASETS", str(folder))
    tool_config(data_dir=tmp_path / "var")  # the search index goes here
    return folder


def test_judge_cache_and_failure_counting(tiny_datasets: Path, tmp_path: Path) -> None:
    from evals.suites import rag

    options = SuiteOptions(judge="scripted:judge", cache_dir=tmp_path / "judge-cache", progress=False)
    first_judge = ScriptedJudge()
    first = rag.run(options, judge_model=first_judge)
    stats = first.extras["judge"]
    assert stats["calls"] == len(first_judge.prompts) > 0
    assert len(set(first_judge.prompts)) == len(first_judge.prompts)  # a repeated prompt is never re-asked
    assert stats["input_tokens"] > 0 and stats["output_tokens"] > 0
    # every faithfulness verdict was junk: one counted failure per agent case, none dropped silently
    assert stats["failures"]["faithfulness"] == 2
    assert stats["failures"]["llm_context_precision"] == 0
    scored = {row["id"]: row["metrics"] for row in first.rows}
    precision = [m["llm_context_precision"] for k, m in scored.items() if k.startswith("q:")]
    assert precision == [pytest.approx(1.0), pytest.approx(1.0)]  # every context judged useful
    assert all(m["faithfulness"] is None for k, m in scored.items() if k.startswith("case:"))
    assert all(m["agent_goal_accuracy"] == 1.0 for k, m in scored.items() if k.startswith("case:"))
    assert all(0.0 <= m["response_relevancy"] <= 1.0 for k, m in scored.items() if k.startswith("case:"))
    assert all(0.0 < m["tool_call_accuracy"] <= 1.0 for k, m in scored.items() if k.startswith("case:"))
    assert list(tmp_path.joinpath("judge-cache").glob("*.json"))

    second_judge = ScriptedJudge()
    second = rag.run(options, judge_model=second_judge)
    assert second_judge.prompts == []  # every prompt answered from the cache
    assert second.extras["judge"]["calls"] == 0
    assert second.extras["judge"]["cache_hits"] == stats["calls"] + stats["cache_hits"]
    assert second.extras["judge"]["failures"] == stats["failures"]
    assert {r["id"]: r["metrics"] for r in second.rows} == scored

    document = write_run([first], tmp_path / "run", options)
    assert document["suites"]["rag"]["judge"]["failures"]["faithfulness"] == 2
    assert "faithfulness" in (tmp_path / "run" / "report.html").read_text()
