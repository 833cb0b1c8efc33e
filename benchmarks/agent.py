"""Triage latency of the agent, and models side by side.

Default: p50/p95 and cases per second, playbook over the whole case set and the llama.cpp model
(Gemma 3 270M) on a few cases. Each case runs to the human-review interrupt with SQLite checkpoints
in a temporary data directory, over the demo reference data, as `repairdesk serve` would run it.
Floor: playbook p50 < 300 ms per case after warm-up; the script exits 1 below it.

``--model SPEC [SPEC ...]``: the same cases (``--set team|unseen``, the first ``--cases N``) with each
model spec (``playbook``, ``llamacpp:[path]``, ``openai:<model>``, ``bedrock:<id>``), printed side by
side: exact accuracy, unsafe proposals, escalation rate, latency per case (mean, p50) and cost per
case (metered by the Bedrock provider; local models cost nothing). ``openai:`` uses
``OPENAI_BASE_URL``/``OPENAI_API_KEY`` when set; without them, ``--serve-local`` puts the local
llama.cpp model behind an OpenAI-compatible server on 127.0.0.1 (agents/llamacpp_server.py) so the
real HTTP path runs. ``bedrock:`` runs where AWS credentials exist (else it is reported as skipped).

Run: .venv/bin/python benchmarks/agent.py [--llm-cases N] [--skip-llm]
     .venv/bin/python benchmarks/agent.py --model playbook llamacpp: openai:gemma --serve-local --cases 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FLOOR_P50_MS = 300.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _run(runner: Any, rows: list[dict[str, Any]], prefix: str) -> dict[str, float]:
    times = []
    started = time.perf_counter()
    for row in rows:
        t0 = time.perf_counter()
        runner.start(row["case"], f"{prefix}-{row['id']}")
        times.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - started
    return {
        "cases": len(rows),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "cases_per_s": round(len(rows) / wall, 2),
    }


def _compare_one(spec: str, rows: list[dict[str, Any]], refdata: Path | None) -> dict[str, Any]:
    """One model spec over ``rows``: accuracy, unsafe, escalation, latency and cost per case."""
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.contract import Proposal
    from agents.runner import TriageRunner
    from evals.suites.agent import demo_clock, demo_store, score

    try:
        runner = TriageRunner(model=spec, checkpointer=InMemorySaver(), store=demo_store(refdata))
        runner.toolbox.chat_model(spec)  # fail here, not per case, when a provider cannot be built
    except Exception as exc:  # a missing extra or credentials: report it, keep the others
        return {"model": spec, "skipped": f"{type(exc).__name__}: {exc}"[:200]}
    scores: list[dict[str, float]] = []
    times: list[float] = []
    cost = 0.0
    fallbacks = 0
    with demo_clock():
        runner.start(dict(rows[0]["case"]), f"warmup-{uuid.uuid4().hex[:6]}")  # loads models, not timed
        for row in rows:
            thread = f"cmp-{row['id']}-{uuid.uuid4().hex[:6]}"
            t0 = time.perf_counter()
            proposal = Proposal.model_validate(runner.start(dict(row["case"]), thread))
            times.append((time.perf_counter() - t0) * 1000)
            scores.append(score(proposal, row["expected"]))
            fallbacks += proposal.fallback is not None
            cost += float((runner.take_usage(thread) or {}).get("cost_usd") or 0.0)
    n = len(rows)
    mean = lambda key: round(sum(s[key] for s in scores) / n, 3)  # noqa: E731
    return {
        "model": spec,
        "cases": n,
        "exact": mean("exact"),
        "unsafe": mean("unsafe_rate"),
        "escalation": mean("escalation_rate"),
        "fallbacks": fallbacks,
        "latency_mean_ms": round(statistics.mean(times), 1),
        "latency_p50_ms": round(statistics.median(times), 1),
        "cost_per_case_usd": round(cost / n, 6),
    }


def _table(results: list[dict[str, Any]]) -> str:
    columns = ["model", "cases", "exact", "unsafe", "escalation", "fallbacks", "latency_mean_ms",
               "latency_p50_ms", "cost_per_case_usd"]  # fmt: skip
    lines = [" | ".join(columns)]
    for result in results:
        if "skipped" in result:
            lines.append(f"{result['model']} | skipped: {result['skipped']}")
        else:
            lines.append(" | ".join(str(result[c]) for c in columns))
    return "\n".join(lines)


def compare(specs: list[str], dataset: str, cases: int, serve_local: bool) -> int:
    """``--model`` mode (see module docstring)."""
    from contextlib import ExitStack

    from tools import config

    if dataset == "unseen":
        path, refdata = (
            ROOT / "evals/datasets/unseen/cases.jsonl",
            ROOT / "evals/datasets/unseen/refdata.json",
        )
    else:
        path, refdata = ROOT / "evals/datasets/agent_cases.jsonl", None
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()][:cases]
    results = []
    with ExitStack() as stack:
        if (
            serve_local
            and any(s.startswith("openai:") for s in specs)
            and not config.current().openai_base_url
        ):
            from agents.llamacpp_server import serve

            url = stack.enter_context(serve())
            stack.enter_context(config.override(openai_base_url=url, openai_api_key="local"))
        for spec in specs:
            results.append(_compare_one(spec, rows, refdata))
    print(json.dumps({"set": dataset, "results": results}, indent=2))
    print(_table(results))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm-cases", type=int, default=3)
    parser.add_argument("--skip-llm", action="store_true")
    parser.add_argument("--model", nargs="+", metavar="SPEC", help="compare these model specs side by side")
    parser.add_argument("--set", choices=("team", "unseen"), default="team", dest="dataset")
    parser.add_argument("--cases", type=int, default=10, help="first N cases of the set (--model mode)")
    parser.add_argument(
        "--serve-local", action="store_true", help="openai: against the local llama.cpp model"
    )
    args = parser.parse_args()
    if args.model:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from app.settings import Settings, configure_process

        configure_process(
            Settings()
        )  # OPENAI_BASE_URL, OPENAI_API_KEY, AWS settings as the service reads them
        return compare(args.model, args.dataset, args.cases, args.serve_local)
    workdir = Path(tempfile.mkdtemp(prefix="repairdesk-bench-"))
    os.environ["REPAIRDESK_DATA_DIR"] = str(workdir)
    os.environ.setdefault("REPAIRDESK_TODAY", "2026-11-20")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from sqlalchemy import create_engine

    from agents.checkpoints import sqlite_checkpointer
    from agents.runner import TriageRunner
    from agents.toolbox import Toolbox, default_search, load_procedure_refs
    from tools.agent_tools import build_tools
    from tools.refdata.loader import load_file
    from tools.refdata.store import RefDataStore

    store = RefDataStore(create_engine(f"sqlite:///{workdir / 'refdata.db'}"))
    load_file(ROOT / "corpora" / "demo" / "refdata.json", store)
    search = default_search()
    toolbox = Toolbox(tools=build_tools(store, search), procedures=load_procedure_refs(), search=search)
    rows = [
        json.loads(line)
        for line in (ROOT / "evals/datasets/agent_cases.jsonl").read_text().splitlines()
        if line
    ]
    runner = TriageRunner(
        model="playbook", checkpointer=sqlite_checkpointer(workdir / "checkpoints.sqlite"), toolbox=toolbox
    )
    _run(runner, rows[:5], "warmup")
    report: dict[str, Any] = {"search": search is not None, "playbook": _run(runner, rows, "bench")}
    if not args.skip_llm:
        try:
            from agents.llamacpp import default_gguf_path

            spec = f"llamacpp:{default_gguf_path()}"
            llm = TriageRunner(
                model=spec, checkpointer=sqlite_checkpointer(workdir / "llm.sqlite"), toolbox=toolbox
            )
            _run(llm, rows[:1], "llm-warmup")  # loads the model
            report["llamacpp"] = _run(llm, rows[1 : 1 + args.llm_cases], "llm")
        except Exception as exc:  # the optional extra may be missing; report it instead of failing
            report["llamacpp"] = {"skipped": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(report, indent=2))
    p50 = report["playbook"]["p50_ms"]
    if p50 >= FLOOR_P50_MS:
        print(f"FAIL: playbook p50 {p50} ms is over the {FLOOR_P50_MS} ms floor", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
