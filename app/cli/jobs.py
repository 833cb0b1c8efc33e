"""`repairdesk jobs ...`: operate the distributed triage queue (runbook: infra/README.md).

- ``status``: jobs by state in the database and, with a broker, the dead-letter queue's depth.
- ``republish [--older-than S]``: publish a task for each job queued longer than S seconds (a crash
  between the API's commit and its publish leaves such jobs; publishing twice is harmless).
- ``replay-dead-letters [--limit N]``: after fixing the cause, put dead-lettered jobs back to work.
Exit 1 with one line on stderr when the broker or the database cannot be reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import emit_json, fail

if TYPE_CHECKING:
    from app.db.session import Database
    from app.settings import Settings

app = typer.Typer(no_args_is_help=True)


def _services() -> tuple[Settings, Database]:
    from app.db.session import Database
    from app.settings import Settings

    settings = Settings()
    return settings, Database(settings.database_url)


def _require_broker(settings: Settings) -> None:
    if not settings.broker:
        fail("REPAIRDESK_BROKER", "not set: jobs run in-process, there is no broker queue to operate")
        raise typer.Exit(1)


@app.command("status")
def status() -> None:
    """Print jobs by state and the dead-letter queue's depth as JSON."""
    from sqlalchemy import func, select

    from app.db.models import Job

    settings, db = _services()
    try:
        with db.session() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    except Exception as exc:  # one line, never a traceback
        fail("database", f"{type(exc).__name__}: {exc}"[:300])
        raise typer.Exit(1) from None
    report: dict[str, object] = {"jobs": {str(s): int(n) for s, n in rows}}
    if settings.broker:
        from app.jobs.dead_letters import dead_letter_depth

        try:
            report["dead_letters"] = dead_letter_depth()
        except Exception as exc:
            fail("broker", f"{type(exc).__name__}: {exc}"[:300])
            raise typer.Exit(1) from None
    emit_json(report)


@app.command("republish")
def republish(
    older_than: Annotated[
        float, typer.Option("--older-than", min=0, help="Seconds a job has been queued.")
    ] = 60.0,
) -> None:
    """Publish a triage task for every job still queued after --older-than seconds."""
    from app.jobs.dispatch import republish_queued

    settings, db = _services()
    _require_broker(settings)
    try:
        count = republish_queued(db, older_than)
    except Exception as exc:
        fail("broker", f"{type(exc).__name__}: {exc}"[:300])
        raise typer.Exit(1) from None
    typer.echo(f"republished {count} queued jobs")


@app.command("replay-dead-letters")
def replay(
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many messages.")] = 1000,
) -> None:
    """Requeue dead-lettered triage jobs (cases back to `queued`, audit event `triage_requeued`)."""
    from app.jobs.dead_letters import replay_dead_letters

    settings, db = _services()
    _require_broker(settings)
    try:
        cases = replay_dead_letters(db, limit)
    except Exception as exc:
        fail("broker", f"{type(exc).__name__}: {exc}"[:300])
        raise typer.Exit(1) from None
    typer.echo(f"replayed {len(cases)} dead-lettered jobs" + (f": {', '.join(cases[:20])}" if cases else ""))
