"""`repairdesk audit verify`: check the audit hash chain (exit 1 naming the first bad event)."""

from __future__ import annotations

import typer

from app.cli.output import fail

app = typer.Typer(no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Recompute every event's hash and link; exit 1 and name the first bad event when broken."""
    from app.db.session import Database
    from app.services.audit import verify_chain
    from app.settings import Settings

    db = Database(Settings().database_url)
    db.migrate()
    with db.session() as session:
        report = verify_chain(session)
    if not report.ok:
        fail(f"audit event seq {report.first_bad_seq}", report.reason or "broken chain")
        raise typer.Exit(1)
    typer.echo(f"audit chain ok: {report.checked} events")


@app.command("create", hidden=True)
def create() -> None:
    """Audit events are written by the service only (kept for the command group's shape)."""
    fail("audit create", "audit events are appended by the service; nothing to create by hand")
    raise typer.Exit(2)
