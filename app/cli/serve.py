"""`repairdesk serve [--host] [--port] [--workers N] [--processes N]`: the API and the analyst UI."""

from __future__ import annotations

import os
from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    cli.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(min=0, max=64, help="Triage worker threads per process (REPAIRDESK_WORKERS, 2)."),
    ] = None,
    processes: Annotated[
        int,
        typer.Option(min=1, max=32, help="Server processes (each with its own workers; jobs are shared)."),
    ] = 1,
) -> None:
    """Serve the HTTP API (/v1, /docs) and the analyst UI (/ui); triage workers run in-process."""
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    settings = Settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    typer.echo(f"RepairDesk on http://{host}:{port}/ui  (API docs: http://{host}:{port}/docs)", err=True)
    options = {"host": host, "port": port, "log_config": None, "access_log": False, "server_header": False}
    if processes == 1:
        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
        return
    # Several processes: migrate once here, then each child builds the app from the environment.
    from app.db.session import Database

    Database(settings.database_url).migrate()
    os.environ["REPAIRDESK_WORKERS"] = str(settings.workers)
    os.environ["REPAIRDESK_MIGRATE_ON_STARTUP"] = "false"
    uvicorn.run("app.main:app", workers=processes, **options)  # type: ignore[arg-type]
