"""`repairdesk serve` (placeholder until its issue lands)."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    @cli.command("serve")
    def _placeholder() -> None:
        """Not available yet."""
        typer.echo("repairdesk serve is not available yet", err=True)
        raise typer.Exit(2)
