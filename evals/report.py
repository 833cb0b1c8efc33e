"""``report.html`` with embedded PNG plots (matplotlib, Agg backend; no network, no JavaScript).

Plots: per-metric bars with 95% intervals, the classification confusion matrix, a reliability curve
with its expected calibration error, and latency distributions. Each PNG is also saved beside the
report so reviewers can paste it elsewhere.
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol


class SuiteResult(Protocol):
    """What a report reads of :class:`evals.base.SuiteResult` (a protocol, so that ``evals.base``,
    which writes the report, and this module do not import each other)."""

    @property
    def suite(self) -> str: ...

    @property
    def rows(self) -> list[dict[str, Any]]: ...

    @property
    def extras(self) -> dict[str, Any]: ...


def _figure() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    _figure().close(fig)
    return base64.b64encode(path.read_bytes()).decode()


def metric_bars(metrics: dict[str, dict[str, Any]], path: Path) -> str:
    plt = _figure()
    names = list(metrics)
    values = [metrics[n]["value"] for n in names]
    lows = [max(0.0, metrics[n]["value"] - metrics[n]["ci95"][0]) for n in names]
    highs = [max(0.0, metrics[n]["ci95"][1] - metrics[n]["value"]) for n in names]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * len(names) + 1)))
    ax.barh(names, values, xerr=[lows, highs], color="#3b6ea5", ecolor="#222", capsize=3)
    ax.invert_yaxis()
    ax.set_xlabel("value (bars: 95% bootstrap interval)")
    ax.tick_params(axis="y", labelsize=7)
    return _save(fig, path)


def confusion(pairs: list[tuple[str, str]], path: Path) -> str:
    plt = _figure()
    labels = sorted({p for pair in pairs for p in pair})
    index = {label: i for i, label in enumerate(labels)}
    counts = Counter(pairs)
    grid = [[counts.get((expected, predicted), 0) for predicted in labels] for expected in labels]
    size = max(4.0, 0.4 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("classified as")
    ax.set_ylabel("expected")
    for (expected, predicted), count in counts.items():
        ax.text(index[predicted], index[expected], str(count), ha="center", va="center", fontsize=7)
    return _save(fig, path)


def reliability(calibration: dict[str, Any], path: Path) -> str:
    plt = _figure()
    bins = calibration["bins"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="#999", label="perfect calibration")
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", label="proposals")
    ax.set_xlabel("mean confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"ECE = {calibration['ece']:.3f} (n = {calibration['n']})")
    ax.legend(loc="lower right")
    return _save(fig, path)


def reliability_by_code(per_code: dict[str, dict[str, Any]], path: Path, most: int = 12) -> str:
    """Small reliability diagrams for the codes with the most samples."""
    import math

    plt = _figure()
    codes = sorted(per_code, key=lambda c: -per_code[c]["n"])[:most]
    cols = 4
    fig, axes = plt.subplots(
        math.ceil(len(codes) / cols), cols, figsize=(12, 3 * math.ceil(len(codes) / cols))
    )
    flat = list(getattr(axes, "flat", [axes]))
    for ax, code in zip(flat, codes, strict=False):
        bins = per_code[code]["bins"]
        ax.plot([0, 1], [0, 1], linestyle="--", color="#999")
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o")
        ax.set_title(f"{code} ECE {per_code[code]['ece']:.3f} n={per_code[code]['n']}", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    for ax in flat[len(codes) :]:
        ax.axis("off")
    return _save(fig, path)


def _calibration_table(overall: dict[str, Any], per_code: dict[str, dict[str, Any]]) -> str:
    def fmt(value: Any) -> str:
        return "-" if value is None or value != value else f"{value:.4f}"

    rows = [("all", overall), *sorted(per_code.items())]
    body = "".join(
        f"<tr><td>{html.escape(code)}</td><td>{c['n']}</td><td>{fmt(c.get('ece'))}</td>"
        f"<td>{fmt(c.get('brier'))}</td><td>{fmt(c.get('auroc'))}</td></tr>"
        for code, c in rows
    )
    return f"<table><tr><th>code</th><th>n</th><th>ECE</th><th>Brier</th><th>AUROC</th></tr>{body}</table>"


def latency(values: list[float], path: Path) -> str:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(values, bins=30, color="#5a9e6f")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("samples")
    return _save(fig, path)


def write_report(document: dict[str, Any], results: Sequence[SuiteResult], out_dir: Path) -> Path:
    sections: list[str] = []

    def image(title: str, encoded: str) -> None:
        sections.append(
            f"<h3>{html.escape(title)}</h3>"
            f"<img alt='{html.escape(title)}' src='data:image/png;base64,{encoded}'>"
        )

    for result in results:
        prefix = result.suite + "."
        metrics = {k: v for k, v in document["metrics"].items() if k.startswith(prefix)}
        sections.append(f"<h2>Suite: {html.escape(result.suite)} ({len(result.rows)} samples)</h2>")
        if metrics:
            sections.append(_metric_table(metrics))
            image("Metrics", metric_bars(metrics, out_dir / f"{result.suite}_metrics.png"))
        pairs = [
            (r["expected_code"], r["predicted_code"])
            for r in result.rows
            if "expected_code" in r and "predicted_code" in r
        ]
        if pairs:
            image(
                "Exception classification: confusion matrix",
                confusion(pairs, out_dir / f"{result.suite}_confusion.png"),
            )
        cal = document["suites"][result.suite].get("calibration")
        if cal:
            image(
                "Calibration of proposal confidence",
                reliability(cal, out_dir / f"{result.suite}_calibration.png"),
            )
            per_code = cal.get("per_code") or {}
            if per_code:
                sections.append(_calibration_table(cal, per_code))
                image(
                    "Reliability per exception code",
                    reliability_by_code(per_code, out_dir / f"{result.suite}_calibration_by_code.png"),
                )
        lat = [r["latency_ms"] for r in result.rows if "latency_ms" in r]
        if lat:
            image("Latency distribution", latency(lat, out_dir / f"{result.suite}_latency.png"))
        judge = result.extras.get("judge")
        if judge:
            sections.append(f"<h3>Judge</h3><pre>{html.escape(str(judge))}</pre>")
    datasets = "".join(
        f"<li>{html.escape(name)} v{entry.get('version')} ({entry.get('count')} rows, {entry.get('origin')}, "
        f"sha256 {str(entry.get('sha256'))[:12]})</li>"
        for name, entry in document["datasets"].items()
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>RepairDesk evaluation</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px}}img{{max-width:100%}}</style></head><body>
<h1>RepairDesk evaluation</h1><p>created {html.escape(document["created_at"])}, model
<code>{html.escape(str(document["model"]))}</code>, judge <code>{html.escape(str(document["judge"]))}</code>,
limit {html.escape(str(document["limit"]))}</p><ul>{datasets}</ul>{"".join(sections)}</body></html>"""
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _metric_table(metrics: dict[str, dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{m['value']:.4f}</td>"
        f"<td>[{m['ci95'][0]:.4f}, {m['ci95'][1]:.4f}]</td>"
        f"<td>{m['n']}</td></tr>"
        for name, m in metrics.items()
    )
    return f"<table><tr><th>metric</th><th>value</th><th>95% CI</th><th>n</th></tr>{rows}</table>"
