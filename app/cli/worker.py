"""`repairdesk worker` (placeholder until its issue lands)."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    @cli.command("worker")
    def _placeholder() -> None:
        """Not available yet."""
        typer.echo("repairdesk worker is not available yet", err=True)
        raise typer.Exit(2)
