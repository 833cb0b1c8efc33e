"""`repairdesk token create --user NAME --role ROLE` and `repairdesk token verify TOKEN`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import fail

if TYPE_CHECKING:
    from app.db.session import Database

app = typer.Typer(no_args_is_help=True)


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
        append_event(session, event="token_created", actor="cli", data={"user": user, "role": role})
        session.commit()
    typer.echo(token)


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
