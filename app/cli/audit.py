"""`repairdesk audit verify|anchor`: check the keyed audit chain, its anchors and the stored state."""

from __future__ import annotations

import typer

from app.cli.output import fail

app = typer.Typer(no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Recompute every event's keyed hash and link, check the chain against the signed heads anchored
    outside the database, then cases, decisions, proposals and applied changes against the events;
    exit 1 naming the first disagreement."""
    from app.db.session import Database
    from app.services.audit import verify_chain
    from app.services.audit_anchor import anchored_heads, open_anchor_store
    from app.services.audit_keys import resolve_key
    from app.services.audit_state import verify_state
    from app.settings import Settings
    from tools.errors import RepairDeskError

    settings = Settings()
    key = resolve_key(settings)
    db = Database(settings.database_url, audit_key=key)
    db.migrate()
    try:
        anchored = anchored_heads(open_anchor_store(settings.audit_anchor_location), [key])
    except RepairDeskError as exc:
        fail(exc.source or "audit anchors", exc.reason)
        raise typer.Exit(1) from exc
    with db.session() as session:
        if db.is_postgres:  # one snapshot for the chain and the rows
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        report = verify_chain(session, anchored=anchored, keys=[key])
        state = verify_state(session) if report.ok else None
    if not report.ok:
        fail(f"audit event seq {report.first_bad_seq}", report.reason or "broken chain")
        raise typer.Exit(1)
    if state is not None and not state.ok:
        fail("audit state", state.disagreement or "disagreement")
        raise typer.Exit(1)
    typer.echo(
        f"audit chain ok: {report.checked} events, {len(anchored)} anchors; "
        f"state ok: {state.checked_cases if state else 0} cases agree with their events"
    )


@app.command("anchor")
def anchor() -> None:
    """Append the signed current head to the anchor store now (the service also does it periodically)."""
    from app.db.session import Database
    from app.services.audit_anchor import anchor_head, open_anchor_store
    from app.services.audit_keys import resolve_key
    from app.settings import Settings

    settings = Settings()
    key = resolve_key(settings)
    db = Database(settings.database_url, audit_key=key)
    with db.session() as session:
        written = anchor_head(session, open_anchor_store(settings.audit_anchor_location), key)
    typer.echo(f"anchored seq {written.seq}" if written else "nothing to anchor")


@app.command("create", hidden=True)
def create() -> None:
    """Audit events are written by the service only (kept for the command group's shape)."""
    fail("audit create", "audit events are appended by the service; nothing to create by hand")
    raise typer.Exit(2)
