"""`repairdesk refdata load FILE.json`: validate and load reference data (contract: "Reference data").

Exit 0 with a count per record kind; exit 1 with every invalid record named by position (nothing
is loaded in that case); exit 2 for usage errors (typer's own).
"""

from __future__ import annotations

from pathlib import Path

import typer

from app.cli.output import emit_json, fail

app = typer.Typer(no_args_is_help=True)


@app.command("load")
def load(
    file: Path = typer.Argument(..., help="Reference-data JSON file (customers, accounts, ssis, ...)."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Override DATABASE_URL (default: the SQLite file in the data dir)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Load FILE.json into the reference-data store, replacing records with the same ids."""
    from sqlalchemy.exc import SQLAlchemyError

    from tools.config import database_url as default_url
    from tools.db import get_engine
    from tools.errors import RepairDeskError
    from tools.refdata.loader import load_file
    from tools.refdata.store import RefDataStore

    try:
        # Resolve the URL here: get_engine caches per argument, and None would pin the first one.
        store = RefDataStore(get_engine(database_url or default_url()))
        report = load_file(file, store)
    except RepairDeskError as exc:
        fail(exc.source or str(file), exc.reason)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        # An unreachable or refusing database is a failed input too, not a traceback.
        detail = str(getattr(exc, "orig", None) or exc).strip()
        fail("database", detail.splitlines()[0] if detail else type(exc).__name__)
        raise typer.Exit(1) from None
    if as_json:
        emit_json({"source": report.source, "loaded": report.counts})
        return
    summary = ", ".join(f"{count} {kind}" for kind, count in report.counts.items())
    typer.echo(f"loaded {file}: {summary}")
