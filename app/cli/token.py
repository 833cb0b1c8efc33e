"""`repairdesk token create|list|revoke|rotate|verify`: API token administration.

Tokens are stored as SHA-256 hashes only, so `list` shows ids, users, roles and dates, and a token is
printed in clear exactly once: by `create` or `rotate`. `revoke` and `rotate` write audit events. The
API caches token look-ups per process for `REPAIRDESK_TOKEN_CACHE_SECONDS` (5 s by default): a
revoked token is refused everywhere once that window has passed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import emit_json, fail

if TYPE_CHECKING:
    from app.db.session import Database

app = typer.Typer(no_args_is_help=True)
ACTOR = "cli"


def _database() -> Database:
    from app.db.session import Database
    from app.settings import Settings

    db = Database(Settings().database_url)
    db.migrate()
    return db


@app.command("create")
def create(
    user: Annotated[str, typer.Option(help="User name the token acts as.")],
    role: Annotated[str, typer.Option(help="analyst, approver, admin or service.")],
) -> None:
    """Print a new API token for USER with ROLE (only its SHA-256 hash is stored)."""
    from app.services.audit import append_event
    from app.services.auth import create_token
    from tools.errors import RepairDeskError

    db = _database()
    with db.session() as session:
        try:
            token = create_token(session, user, role)
        except RepairDeskError as exc:
            fail(exc.source or "token", exc.reason)
            raise typer.Exit(2) from None
        append_event(session, event="token_created", actor=ACTOR, data={"user": user, "role": role})
        session.commit()
    typer.echo(token)


@app.command("list")
def list_(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    live: Annotated[bool, typer.Option("--live", help="Leave out revoked tokens.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array instead of a table.")] = False,
) -> None:
    """List API tokens: id, user, role, created, revoked (never the token or its hash)."""
    from app.services.auth import list_tokens

    db = _database()
    with db.session() as session:
        tokens = list_tokens(session, user=user, live_only=live)
    if as_json:
        emit_json([t.as_json() for t in tokens])
        return
    rows = [("id", "user", "role", "created", "revoked")]
    for t in tokens:
        revoked = t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "-"
        rows.append((str(t.id), t.user, t.role, t.created_at.isoformat(timespec="seconds"), revoked))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id, as `repairdesk token list` shows it.")],
) -> None:
    """Revoke token TOKEN_ID (the API refuses it within REPAIRDESK_TOKEN_CACHE_SECONDS); exit 1 if unknown."""
    from app.services.auth import revoke_token
    from tools.errors import RepairDeskError

    db = _database()
    with db.session() as session:
        try:
            info, changed = revoke_token(session, token_id, actor=ACTOR)
        except RepairDeskError as exc:
            fail(exc.source or f"token {token_id}", exc.reason)
            raise typer.Exit(1) from None
        session.commit()
    when = info.revoked_at.isoformat(timespec="seconds") if info.revoked_at else "?"
    if changed:
        typer.echo(f"revoked token {info.id} ({info.user}, {info.role}) at {when}")
    else:
        typer.echo(f"token {info.id} ({info.user}, {info.role}) was already revoked at {when}")


@app.command("rotate")
def rotate(
    user: Annotated[str, typer.Option(help="The user whose live tokens are replaced.")],
    role: Annotated[
        str | None, typer.Option(help="Only the user's tokens with this role (needed when they differ).")
    ] = None,
) -> None:
    """Revoke USER's live tokens and print one new token with the same role (shown only once)."""
    from app.services.auth import rotate_tokens
    from tools.errors import RepairDeskError

    db = _database()
    with db.session() as session:
        try:
            rotation = rotate_tokens(session, user, actor=ACTOR, role=role)
        except RepairDeskError as exc:
            fail(exc.source or f"user {user}", exc.reason)
            raise typer.Exit(2 if exc.source == "--role" else 1) from None  # a bad --role is usage
        session.commit()
    revoked = ", ".join(str(t.id) for t in rotation.revoked)
    typer.echo(
        f"revoked token(s) {revoked}; new token {rotation.new.id} ({user}, {rotation.new.role}):", err=True
    )
    typer.echo(rotation.token)


@app.command("verify")
def verify(token: Annotated[str, typer.Argument(help="The token to check.")]) -> None:
    """Print the user and role a token maps to; exit 1 when it is unknown or revoked."""
    from app.services.auth import resolve_token

    db = _database()
    with db.session() as session:
        principal = resolve_token(session, token)
    if principal is None:
        fail("token", "unknown or revoked")
        raise typer.Exit(1)
    typer.echo(f"{principal.user} {principal.role}")
