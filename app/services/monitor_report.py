"""What ``repairdesk monitor report`` shows: the drift figures as text lines, and an HTML page.

The page is one self-contained file (PNG plots from matplotlib's Agg backend embedded as data URIs; no
script, no network) beside ``figures.json``, the snapshot as JSON, which can later serve as a stored
reference window (``REPAIRDESK_MONITOR_REFERENCE``). Text from the database (exception codes) is
escaped before it reaches the page.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from app.services.drift import MOVED, STABLE, bin_labels, reading
from app.services.monitoring import ALL, OUTCOMES, Snapshot, TimelinePoint, WindowFigures

COLOURS = {"current": "#3b6ea5", "reference": "#b0b0b0"}
OUTCOME_COLOURS = {"approved": "#3f8f4f", "edited": "#d9a13b", "rejected": "#b5473a"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _span(figures: WindowFigures) -> str:
    return f"{figures.start.isoformat(timespec='seconds')} .. {figures.end.isoformat(timespec='seconds')}"


def _codes(snapshot: Snapshot) -> list[str]:
    reference = snapshot.reference
    found = set(snapshot.current.codes) | set(snapshot.current.outcomes)
    if reference is not None:
        found |= set(reference.codes) | set(reference.outcomes)
    return sorted(found)


def _rows(snapshot: Snapshot) -> list[list[str]]:
    """One row per exception code and one for all: mix, decided, outcome rates, reference approval."""
    current, reference = snapshot.current, snapshot.reference
    current_shares = current.code_shares()
    reference_shares = reference.code_shares() if reference else {}
    rows = []
    for code in [*_codes(snapshot), ALL]:
        cases = current.cases if code == ALL else current.codes.get(code, 0)
        rates = current.rates(code)
        share = 1.0 if code == ALL and cases else current_shares.get(code)
        reference_share = (
            (1.0 if reference and reference.cases else None) if code == ALL else reference_shares.get(code)
        )
        rows.append(
            [
                code,
                str(cases),
                _pct(share),
                _pct(reference_share),
                str(current.decided(code)),
                *(_pct(rates[outcome]) for outcome in OUTCOMES),
                _pct(reference.rates(code)["approved"]) if reference else "n/a",
            ]
        )
    return rows


HEADER = ["code", "cases", "share", "ref share", "decided", "approved", "edited", "rejected", "ref approved"]


def summary_lines(snapshot: Snapshot) -> list[str]:
    """The report's figures as plain text lines (the CLI prints them)."""
    current, reference = snapshot.current, snapshot.reference
    lines = [f"current window   {_span(current)}: {current.cases} cases, {current.decided()} decided"]
    if reference is None:
        lines.append("reference window none yet (no cases in the database)")
    else:
        lines.append(
            f"reference window {_span(reference)} ({reference.source}): "
            f"{reference.cases} cases, {reference.decided()} decided"
        )
    widths = [max(len(row[i]) for row in [HEADER, *_rows(snapshot)]) for i in range(len(HEADER))]
    for row in [HEADER, *_rows(snapshot)]:
        lines.append(
            "  ".join(
                cell.rjust(width) if i else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
    lines.append(
        f"STP share        {_pct(current.stp_share)} ({current.straight_through} of {current.proposals} "
        f"proposals; reference {_pct(reference.stp_share if reference else None)})"
    )
    lines.append(
        f"QA disagreement  {_pct(current.qa_disagreement_rate)} "
        f"({current.qa_disagreements} of {current.qa_reviews} reviews of straight-through cases)"
    )
    for feature, value in snapshot.psi.items():
        shown = f"n/a (fewer than {snapshot.min_cases} cases in a window)"
        if value is not None:
            shown = f"{value:.3f} {reading(value)}"
        lines.append(f"PSI {feature:<14} {shown}")
    return lines


def _figure() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")  # legends below the axes stay in
    _figure().close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _paired_bars(labels: list[str], series: dict[str, list[float]], xlabel: str, title: str) -> str:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.35 * len(labels) + 1.2)))
    height = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        positions = [y + i * height for y in range(len(labels))]
        ax.barh(positions, values, height=height, label=name, color=COLOURS.get(name, "#666"))
    ax.set_yticks([y + height * (len(series) - 1) / 2 for y in range(len(labels))], labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return _png(fig)


def code_mix_plot(snapshot: Snapshot) -> str:
    codes = sorted(set(snapshot.current.codes) | set(snapshot.reference.codes if snapshot.reference else {}))
    series = {"current": [snapshot.current.code_shares().get(c, 0.0) for c in codes]}
    if snapshot.reference is not None:
        series["reference"] = [snapshot.reference.code_shares().get(c, 0.0) for c in codes]
    return _paired_bars(
        codes, series, "share of cases", f"Exception-code mix (PSI {_psi(snapshot, 'exception_code')})"
    )


def confidence_plot(snapshot: Snapshot) -> str:
    def shares(bins: list[int]) -> list[float]:
        total = sum(bins)
        return [n / total if total else 0.0 for n in bins]

    series = {"current": shares(snapshot.current.confidence)}
    if snapshot.reference is not None:
        series["reference"] = shares(snapshot.reference.confidence)
    return _paired_bars(
        bin_labels(),
        series,
        "share of proposals",
        f"Proposal confidence (PSI {_psi(snapshot, 'confidence')})",
    )


def outcome_plot(snapshot: Snapshot) -> str:
    plt = _figure()
    codes = [*sorted(snapshot.current.outcomes), ALL]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.35 * len(codes) + 1.2)))
    left = [0.0] * len(codes)
    for outcome in OUTCOMES:
        values = [snapshot.current.rates(code)[outcome] or 0.0 for code in codes]
        ax.barh(codes, values, left=left, label=outcome, color=OUTCOME_COLOURS[outcome])
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of decided cases (current window)")
    ax.set_title("Decisions by exception code", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(OUTCOMES))
    return _png(fig)


def timeline_plot(points: list[TimelinePoint]) -> str:
    """Rates and PSI step by step through the current window (gaps where a step is too small)."""
    plt = _figure()
    fig, (rates, drift) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    when = [p.figures.start for p in points]

    def line(axis: Any, values: list[float | None], label: str, colour: str) -> None:
        axis.plot(
            when,
            [float("nan") if v is None else v for v in values],
            marker="o",
            ms=3,
            label=label,
            color=colour,
        )

    line(
        rates,
        [p.figures.rates()["approved"] for p in points],
        "approved unchanged",
        OUTCOME_COLOURS["approved"],
    )
    line(rates, [p.figures.stp_share for p in points], "STP share", COLOURS["current"])
    line(
        rates,
        [p.figures.qa_disagreement_rate for p in points],
        "QA disagreement",
        OUTCOME_COLOURS["rejected"],
    )
    rates.set_ylim(0, 1)
    rates.set_ylabel("share")
    rates.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 1.22), ncol=3)
    line(drift, [p.psi["exception_code"] for p in points], "PSI code mix", "#6b4c9a")
    line(drift, [p.psi["confidence"] for p in points], "PSI confidence", "#2a8c8c")
    for threshold in (STABLE, MOVED):
        drift.axhline(threshold, color="#999", linestyle="--", linewidth=0.8)
    drift.set_ylabel("PSI against the reference")
    drift.legend(fontsize=8)
    fig.autofmt_xdate()
    return _png(fig)


def _psi(snapshot: Snapshot, feature: str) -> str:
    value = snapshot.psi.get(feature)
    return "n/a" if value is None else f"{value:.3f}, {reading(value)}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}img{max-width:100%;display:block;margin:1em 0}"
)


def render_html(snapshot: Snapshot, points: list[TimelinePoint]) -> str:
    """The whole page as one string (plots embedded)."""
    current, reference = snapshot.current, snapshot.reference
    psi_rows = [[f, "n/a" if v is None else f"{v:.3f}", reading(v)] for f, v in snapshot.psi.items()]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>RepairDesk monitoring report</title><style>{STYLE}</style></head><body>",
        "<h1>RepairDesk monitoring report</h1>",
        f"<p>Generated {html.escape(snapshot.generated_at.isoformat(timespec='seconds'))}. "
        f"Current window {html.escape(_span(current))}: {current.cases} cases, {current.decided()} decided.",
        (
            f" Reference window {html.escape(_span(reference))} ({html.escape(reference.source)}): "
            f"{reference.cases} cases.</p>"
            if reference
            else " No reference window yet.</p>"
        ),
        "<h2>Drift</h2>",
        _table(["feature", "PSI", "reading"], psi_rows),
        f"<p>PSI below 0.1 reads stable, up to 0.25 moved, above shifted; it is not computed while a "
        f"window has fewer than {snapshot.min_cases} cases.</p>",
        "<h2>Decisions, STP and QA</h2>",
        _table(HEADER, _rows(snapshot)),
        _table(
            ["", "current", "reference"],
            [
                ["STP share", _pct(current.stp_share), _pct(reference.stp_share if reference else None)],
                [
                    "QA disagreement",
                    _pct(current.qa_disagreement_rate),
                    _pct(reference.qa_disagreement_rate if reference else None),
                ],
                ["QA reviews", str(current.qa_reviews), str(reference.qa_reviews if reference else 0)],
            ],
        ),
    ]
    plots = [
        ("Exception-code mix", code_mix_plot(snapshot)),
        ("Proposal confidence", confidence_plot(snapshot)),
        ("Decisions by exception code", outcome_plot(snapshot)),
    ]
    if points:
        plots.append(("Through the current window", timeline_plot(points)))
    for title, encoded in plots:
        parts.append(f"<h2>{title}</h2><img alt='{title}' src='data:image/png;base64,{encoded}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(snapshot: Snapshot, points: list[TimelinePoint], out_dir: Path) -> Path:
    """Write ``report.html`` and ``figures.json`` (snapshot and timeline) to ``out_dir``; the page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = snapshot.to_dict() | {
        "timeline": [{"psi": p.psi, **p.figures.to_dict()} for p in points],
    }
    (out_dir / "figures.json").write_text(
        json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    page = out_dir / "report.html"
    page.write_text(render_html(snapshot, points), encoding="utf-8")
    return page
