"""`repairdesk monitor report`: drift and model-monitoring figures from the database, and a page.

Prints approval/edit/reject rates by exception code, the STP share, QA disagreement and the PSI of
the code mix and of the confidence distribution against the reference window (the figures that
``/metrics`` exports, docs/monitoring.md), and writes ``report.html`` and ``figures.json`` to
``--out`` (default ``<REPAIRDESK_DATA_DIR>/monitor``). Exit 1 with one line naming the input and the
reason (a ``--since`` that is not an ISO date, an unreadable reference snapshot, an unusable folder).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from app.cli.context import context
from app.cli.output import emit_json, fail

app = typer.Typer(no_args_is_help=True)


def parse_since(text: str) -> datetime:
    """An ISO date (``2026-11-20``) or date-time (``2026-11-20T09:00``, UTC unless it names a zone)."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        fail("--since", f"not an ISO date or date-time: {text!r} (e.g. 2026-11-20 or 2026-11-20T09:00Z)")
        raise typer.Exit(1) from None


@app.command("report")
def report(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            help="Start of the current window, ISO (default: the last REPAIRDESK_MONITOR_WINDOW_DAYS)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for report.html and figures.json (default <data dir>/monitor)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Rates by exception code, STP share, QA disagreement and PSI drift; writes an HTML page with plots."""
    from app.db.session import Database
    from app.services.monitor_report import summary_lines, write_report
    from app.services.monitoring import MonitorError, settings_snapshot, timeline

    settings = context(ctx).settings
    start = parse_since(since) if since is not None else None
    folder = out or settings.data_dir / "monitor"
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # a fresh data directory: the SQLite file's home
    except OSError as exc:
        fail(str(settings.data_dir), f"cannot create the data directory ({exc.strerror or exc})")
        raise typer.Exit(1) from None
    database = Database(settings.database_url)
    database.migrate()
    try:
        with database.session() as session:
            snapshot = settings_snapshot(session, settings, since=start)
            points = timeline(session, snapshot)
    except MonitorError as exc:
        fail("--since" if exc.source == "since" else exc.source or "monitor", exc.reason)
        raise typer.Exit(1) from None
    try:
        page = write_report(snapshot, points, folder)
    except OSError as exc:
        fail(str(folder), f"cannot write the report ({exc.strerror or exc})")
        raise typer.Exit(1) from None
    if as_json:
        emit_json(snapshot.to_dict() | {"report": str(page)})
        return
    for line in summary_lines(snapshot):
        typer.echo(line)
    typer.echo(f"report           {page}")
