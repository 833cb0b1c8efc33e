"""What a suite returns and how runs are written: ``metrics.json``, ``samples.jsonl``, ``report.html``.

A suite yields one row per sample. Each row has an ``id`` and a ``metrics`` dict of per-sample values
(0/1 for hits, floats for scores). A run's metric is the mean over the rows that carry it, with a
bootstrap 95% interval; comparisons pair rows by ``id``. Optional row keys the report understands:
``latency_ms``, ``confidence`` with ``correct`` (calibration), ``expected_code`` with
``predicted_code`` (confusion matrix).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.report import write_report
from evals.stats import auroc, bootstrap_mean, brier, calibration, percentile


@dataclass
class SuiteOptions:
    model: str = "playbook"
    judge: str | None = None
    limit: int | None = None  # first N samples of each dataset: the fast gate runs a subset
    cache_dir: Path | None = None
    progress: bool = True
    corrections: Path | None = None  # an exported corrections version (default: the latest export)
    refdata: Path | None = None  # reference data the agent suites replay against (default: the demo's)
    keep_calibration: bool = False  # agent rows carry the calibrator's features (for training it)


@dataclass
class SuiteResult:
    suite: str
    rows: list[dict[str, Any]]
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> manifest entry
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. judge statistics


def aggregate(rows: list[dict[str, Any]], prefix: str) -> dict[str, dict[str, Any]]:
    """Mean and bootstrap interval of every per-sample metric, named ``<prefix>.<metric>``."""
    values: dict[str, list[float]] = {}
    for row in rows:
        for name, value in row.get("metrics", {}).items():
            if value is None or value != value:  # None or NaN: not measured for this sample
                continue
            values.setdefault(name, []).append(float(value))
    return {f"{prefix}.{name}": bootstrap_mean(vals).as_dict() for name, vals in sorted(values.items())}


def summarise(result: SuiteResult) -> dict[str, Any]:
    summary: dict[str, Any] = {"metrics": aggregate(result.rows, result.suite)}
    latencies = [row["latency_ms"] for row in result.rows if "latency_ms" in row]
    if latencies:
        summary["latency_ms"] = {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "n": len(latencies),
        }
    scored = [row for row in result.rows if "confidence" in row and "correct" in row]
    if scored:
        summary["calibration"] = calibration_summary(scored)
        by_code: dict[str, list[dict[str, Any]]] = {}
        for row in scored:
            by_code.setdefault(str(row.get("predicted_code") or "UNKNOWN"), []).append(row)
        summary["calibration"]["per_code"] = {
            code: calibration_summary(rows) for code, rows in sorted(by_code.items())
        }
    return summary


def calibration_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """ECE with its reliability bins, Brier score and AUROC of ``confidence`` against ``correct``."""
    confidences = [float(row["confidence"]) for row in rows]
    correct = [bool(row["correct"]) for row in rows]
    cal = calibration(confidences, correct)
    return {
        "ece": cal.ece,
        "bins": cal.bins,
        "n": len(rows),
        "brier": brier(confidences, correct),
        "auroc": auroc(confidences, correct),
    }


def write_run(results: list[SuiteResult], out_dir: Path, options: SuiteOptions) -> dict[str, Any]:
    """Write metrics.json, samples.jsonl and report.html into ``out_dir``; return the metrics document."""
    out_dir.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "model": options.model,
        "judge": options.judge,
        "limit": options.limit,
        "suites": {},
        "datasets": {},
        "metrics": {},
    }
    with (out_dir / "samples.jsonl").open("w", encoding="utf-8") as handle:
        for result in results:
            summary = summarise(result)
            document["metrics"].update(summary.pop("metrics"))
            document["suites"][result.suite] = {"samples": len(result.rows), **summary, **result.extras}
            document["datasets"].update(result.datasets)
            for row in result.rows:
                handle.write(
                    json.dumps({"suite": result.suite, **row}, default=str, ensure_ascii=False) + "\n"
                )
    (out_dir / "metrics.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    write_report(document, results, out_dir)
    return document


def read_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The metrics document and the sample rows of a finished run directory."""
    metrics_path = run_dir / "metrics.json"
    if not metrics_path.exists():
        from tools.errors import NotFoundError

        raise NotFoundError("no metrics.json here; is this a run directory?", source=str(run_dir))
    document = json.loads(metrics_path.read_text())
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines() if line.strip()]
    return document, rows
