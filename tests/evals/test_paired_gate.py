"""The gate's paired retrieval checks: a loss on the same held-out questions fails, noise and gains
pass, a run missing baseline questions fails, and `eval gate --record` writes what a later run is
paired against."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli.main import cli
from evals.base import SuiteOptions, SuiteResult, write_run
from evals.gate import check_paired, record_paired
from evals.retrieval_eval import split_of

IDS = [f"r-{i:03d}" for i in range(1, 121)]
HELD_OUT = [i for i in IDS if split_of(i) == "held-out"]
BASELINE = {
    "metrics": {"retrieval.hybrid.recall@5": {"value": 0.0}},
    "paired": {
        "samples": "samples.json",
        "split": "held-out",
        "metrics": {"retrieval.hybrid.recall@5": {"tolerance": 0.0}, "rag.id_context_recall": {}},
    },
}


def _rows(hit: dict[str, float]) -> list[dict]:
    retrieval = [{"suite": "retrieval", "id": i, "metrics": {"hybrid.recall@5": hit[i]}} for i in hit]
    rag = [{"suite": "rag", "id": f"q:{i}", "metrics": {"id_context_recall": hit[i]}} for i in hit]
    return retrieval + rag


def test_record_keeps_only_the_split_and_pairs_by_question() -> None:
    base = {i: float(n % 4 != 0) for n, i in enumerate(IDS)}
    samples = record_paired(BASELINE, _rows(base))
    assert set(samples["retrieval.hybrid.recall@5"]) == set(HELD_OUT)
    assert set(samples["rag.id_context_recall"]) == {f"q:{i}" for i in HELD_OUT}
    same = check_paired(BASELINE, _rows(base), samples)
    assert [r.failure for r in same] == ["", ""] and all(r.diff == 0 for r in same)

    # A tuning-half question lost changes nothing; a held-out one flipped either way is noise.
    tuning = next(i for i in IDS if i not in HELD_OUT and base[i] == 1.0)
    noisy = base | {tuning: 0.0, HELD_OUT[0]: 1.0 - base[HELD_OUT[0]]}
    assert not any(r.failure for r in check_paired(BASELINE, _rows(noisy), samples))


def test_a_loss_on_many_held_out_questions_fails_and_missing_questions_fail() -> None:
    base = {i: 1.0 for i in IDS}
    samples = record_paired(BASELINE, _rows(base))
    worse = base | {i: 0.0 for i in HELD_OUT[: len(HELD_OUT) // 4]}
    results = {r.metric: r for r in check_paired(BASELINE, _rows(worse), samples)}
    loss = results["retrieval.hybrid.recall@5"]
    assert loss.failure.startswith("paired loss") and loss.ci95[1] < 0
    assert loss.questions == len(HELD_OUT)

    partial = {i: 1.0 for i in IDS if i != HELD_OUT[3]}
    missing = check_paired(BASELINE, _rows(partial), samples)
    assert all("1 baseline question(s) missing" in r.failure for r in missing)


def test_gate_cli_records_then_fails_a_paired_regression(tmp_path: Path) -> None:
    base = {i: 1.0 for i in IDS}
    worse = base | {i: 0.0 for i in HELD_OUT[: len(HELD_OUT) // 3]}
    good_run, bad_run = tmp_path / "good", tmp_path / "bad"
    for folder, hit in ((good_run, base), (bad_run, worse)):
        rows = _rows(hit)
        write_run(
            [
                SuiteResult("retrieval", [r for r in rows if r["suite"] == "retrieval"]),
                SuiteResult("rag", [r for r in rows if r["suite"] == "rag"]),
            ],
            folder,
            SuiteOptions(progress=False),
        )
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(BASELINE))
    runner = CliRunner()
    recorded = runner.invoke(
        cli, ["eval", "gate", "--baseline", str(baseline), "--run", str(good_run), "--record"]
    )
    assert recorded.exit_code == 0, recorded.output
    assert (tmp_path / "samples.json").is_file()
    failed = runner.invoke(cli, ["eval", "gate", "--baseline", str(baseline), "--run", str(bad_run)])
    assert failed.exit_code == 1
    assert "FAIL  retrieval.hybrid.recall@5" in failed.output and "paired n=" in failed.output
