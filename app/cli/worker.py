"""`repairdesk worker [--threads N]`: run the triage queue without the HTTP server (e.g. a compose worker)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    cli.command("worker")(worker)


def worker(
    ctx: typer.Context,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Worker threads.")] = 2,
    check: Annotated[
        bool, typer.Option("--check", help="Readiness check: exit 0 when the broker and database answer.")
    ] = False,
) -> None:
    """Claim triage jobs from the database until interrupted (SIGINT/SIGTERM finish the running jobs).

    With REPAIRDESK_BROKER set, run a Celery worker instead (THREADS pool processes)."""
    from app.cli.context import context
    from app.logs import configure_logging
    from app.main import build_services, start_pool

    cli = context(ctx)
    settings = cli.settings.model_copy(update={"workers": threads})
    if check or settings.broker:
        from app.jobs.dispatch import check_worker, run_celery_worker

        if check:
            problems = check_worker(settings)
            for problem in problems:
                typer.echo(f"worker not ready: {problem}", err=True)
            raise typer.Exit(1 if problems else 0)
        configure_logging(settings.log_level, settings.log_json)
        build_services(settings).db.migrate()
        from app.jobs.celery_app import worker_app, worker_process  # the app with the tasks registered

        worker_process.build_runners = cli.runners  # each worker process builds its own from these
        raise typer.Exit(run_celery_worker(worker_app, threads, loglevel=settings.log_level))
    configure_logging(settings.log_level, settings.log_json)
    services = build_services(settings, cli.runners(settings))
    services.db.migrate()
    pool = start_pool(services)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"triage worker running with {threads} threads", err=True)
    stop.wait()
    pool.stop()
