"""RAG suite with RAGAS (legacy ``ragas.metrics`` API, pinned ragas==0.4.3).

Always, with no model: NonLLMContextPrecisionWithReference, NonLLMContextRecall,
IDBasedContextPrecision/Recall over the retrieval questions; ToolCallAccuracy, ExactMatch and
StringPresence over the agent cases. With ``--judge SPEC`` also Faithfulness, ResponseRelevancy,
LLMContextPrecisionWithReference and AgentGoalAccuracyWithReference, through the provider seam and a
disk cache. A judge metric that fails or returns no number counts as a failure, reported per metric.

ToolCallAccuracy compares the sequence of tool *names* (arguments stripped): the reference is the
tool plan of the procedure the case's expected route names, so it measures whether the agent asked
for the right evidence.
"""

from __future__ import annotations

import asyncio
import math
import warnings
from pathlib import Path
from typing import Any

from evals import datasets
from evals.base import SuiteOptions, SuiteResult
from evals.progress import track
from tools import config

config.offline()  # RAGAS_DO_NOT_TRACK among others


def _section_text(doc_id: str, section: str) -> str:
    from tools.procedures import get_procedure

    try:
        found = get_procedure(doc_id).section(section)
    except Exception:  # an unknown gold id is a dataset defect; it shows up as recall 0
        return ""
    return found.text if found else ""


def _reference_tools(row: dict[str, Any]) -> list[str]:
    """The tools the case should call: its own ``expected.tools``, else its procedure's playbook steps."""
    if "tools" in row["expected"]:
        return list(row["expected"]["tools"])
    from tools.procedures import get_procedure

    try:
        playbook = get_procedure(str(row.get("family", ""))).playbook
    except Exception:  # a case without a known procedure family has no reference plan
        return []
    return [step.tool for step in playbook.steps] if playbook else []


async def _score(metric: Any, sample: Any, multi_turn: bool = False) -> float | None:
    try:
        value = await (metric.multi_turn_ascore(sample) if multi_turn else metric.single_turn_ascore(sample))
    except Exception:
        return None
    value = float(value)
    return None if math.isnan(value) else value


class _Embeddings:
    """LangChain-style embeddings over the packaged MiniLM model (for ResponseRelevancy)."""

    def __init__(self) -> None:
        from tools.retrieval.embeddings import get_encoder

        self._encoder = get_encoder()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in self._encoder.encode(texts)]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)


def _judge_metrics(options: SuiteOptions, judge_model: Any) -> tuple[dict[str, Any], Any]:
    from langchain_core.embeddings import Embeddings
    from ragas.embeddings import LangchainEmbeddingsWrapper
    from ragas.llms import LangchainLLMWrapper
    from ragas.metrics import (
        AgentGoalAccuracyWithReference,
        Faithfulness,
        LLMContextPrecisionWithReference,
        ResponseRelevancy,
    )

    from evals.judge import load_judge

    judge = load_judge(options.judge or "", options.cache_dir or Path("evals/runs/.judge-cache"), judge_model)
    llm = LangchainLLMWrapper(judge)

    class _LC(_Embeddings, Embeddings):
        pass

    metrics = {
        "faithfulness": Faithfulness(llm=llm),
        "response_relevancy": ResponseRelevancy(
            llm=llm, embeddings=LangchainEmbeddingsWrapper(_LC()), strictness=1
        ),
        "llm_context_precision": LLMContextPrecisionWithReference(llm=llm),
        "agent_goal_accuracy": AgentGoalAccuracyWithReference(llm=llm),
    }
    return metrics, judge


def run(options: SuiteOptions, *, judge_model: Any = None) -> SuiteResult:
    """``judge_model`` injects a chat model as the judge (tests); otherwise ``options.judge`` is loaded."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from ragas.dataset_schema import MultiTurnSample, SingleTurnSample
    from ragas.messages import AIMessage, HumanMessage, ToolCall
    from ragas.metrics import (
        ExactMatch,
        IDBasedContextPrecision,
        IDBasedContextRecall,
        NonLLMContextPrecisionWithReference,
        NonLLMContextRecall,
        StringPresence,
        ToolCallAccuracy,
    )

    from evals.suites.agent import run_cases
    from tools.retrieval.search import open_search

    judged: dict[str, Any] = {}
    judge = None
    if options.judge:
        judged, judge = _judge_metrics(options, judge_model)
    failures: dict[str, int] = {name: 0 for name in judged}

    async def judged_score(name: str, sample: Any, multi_turn: bool = False) -> float | None:
        value = await _score(judged[name], sample, multi_turn)
        if value is None:
            failures[name] += 1
        return value

    questions, q_entry = datasets.load("retrieval")
    cases, c_entry = datasets.load("agent_cases")
    if options.limit:
        questions, cases = questions[: options.limit], cases[: options.limit]
    search = open_search()
    rows: list[dict[str, Any]] = []
    for question in track(questions, "rag:retrieval", enabled=options.progress):
        hits = search.search(question["question"], code=question.get("code"), k=5)
        gold = question["gold"]
        sample = SingleTurnSample(
            user_input=question["question"],
            retrieved_contexts=[h.text for h in hits],
            reference_contexts=[_section_text(g["doc_id"], str(g["section"])) for g in gold],
            retrieved_context_ids=[f"{h.doc_id}#{h.section}" for h in hits],
            reference_context_ids=[f"{g['doc_id']}#{g['section']}" for g in gold],
            reference=" ".join(_section_text(g["doc_id"], str(g["section"])) for g in gold),
        )
        metrics: dict[str, float | None] = {
            "nonllm_context_precision": asyncio.run(_score(NonLLMContextPrecisionWithReference(), sample)),
            "nonllm_context_recall": asyncio.run(_score(NonLLMContextRecall(), sample)),
            "id_context_precision": asyncio.run(_score(IDBasedContextPrecision(), sample)),
            "id_context_recall": asyncio.run(_score(IDBasedContextRecall(), sample)),
        }
        if judged:
            metrics["llm_context_precision"] = asyncio.run(judged_score("llm_context_precision", sample))
        rows.append({"id": f"q:{question['id']}", "metrics": metrics})

    for row, proposal, latency in run_cases(cases, options, desc="rag:agent"):
        expected = row["expected"]
        response = f"{proposal.action}: " + "; ".join(f"{c.field} -> {c.new}" for c in proposal.changes)
        reference = f"{expected.get('action')}: " + "; ".join(
            f"{c.get('field')} -> {c.get('new')}" for c in expected.get("changes", [])
        )
        called = [ToolCall(name=t.tool, args={}) for t in proposal.tool_calls]
        wanted = [ToolCall(name=name, args={}) for name in _reference_tools(row)]
        turns = MultiTurnSample(
            user_input=[
                HumanMessage(content=f"Exception {row['case'].get('exception_code')}: propose a repair."),
                AIMessage(content=response, tool_calls=called),
            ],
            reference_tool_calls=wanted,
            reference=reference,
        )
        single = SingleTurnSample(response=proposal.action, reference=str(expected.get("action")))
        metrics = {
            "exact_match_action": asyncio.run(_score(ExactMatch(), single)),
            "tool_call_accuracy": asyncio.run(_score(ToolCallAccuracy(), turns, multi_turn=True))
            if wanted
            else None,
        }
        for change in expected.get("changes", []):
            presence = SingleTurnSample(response=response, reference=str(change.get("new")))
            metrics["string_presence"] = asyncio.run(_score(StringPresence(), presence))
        if judged:
            contexts = [_section_text(c.doc_id, c.section) for c in proposal.citations]
            answer = SingleTurnSample(
                user_input=f"Exception {row['case'].get('exception_code')}: what should be done?",
                response=proposal.rationale,
                retrieved_contexts=[c for c in contexts if c] or [""],
            )
            metrics["faithfulness"] = asyncio.run(judged_score("faithfulness", answer))
            metrics["response_relevancy"] = asyncio.run(judged_score("response_relevancy", answer))
            metrics["agent_goal_accuracy"] = asyncio.run(
                judged_score("agent_goal_accuracy", turns, multi_turn=True)
            )
        rows.append({"id": f"case:{row['id']}", "latency_ms": latency, "metrics": metrics})

    extras: dict[str, Any] = {}
    if judge is not None:
        extras["judge"] = {"spec": options.judge, "failures": failures, **judge.stats.as_dict()}
    return SuiteResult("rag", rows, datasets={"retrieval": q_entry, "agent_cases": c_entry}, extras=extras)
