"""`repairdesk token` commands (placeholder until its issue lands)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("placeholder", hidden=True)
def _placeholder() -> None:
    typer.echo("not available yet", err=True)
    raise typer.Exit(2)
