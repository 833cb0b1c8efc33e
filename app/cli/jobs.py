"""`repairdesk jobs ...`: operate the distributed triage queue (runbook: infra/README.md).

- ``status``: jobs by state in the database and, with a broker, the dead-letter queue's depth.
- ``republish [--older-than S]``: publish a task for each job queued longer than S seconds (a crash
  between the API's commit and its publish leaves such jobs; publishing twice is harmless).
- ``replay-dead-letters [--limit N]``: after fixing the cause, put dead-lettered jobs back to work.
Exit 1 with one line on stderr when the broker or the database cannot be reached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from app.cli.output import emit_json, fail

if TYPE_CHECKING:
    from app.db.session import Database
    from app.settings import Settings

app = typer.Typer(no_args_is_help=True)
T = TypeVar("T")


def _services() -> tuple[Settings, Database]:
    from app.db.session import Database
    from app.settings import Settings

    settings = Settings()
    return settings, Database(settings.database_url)


def _require_broker(settings: Settings) -> None:
    if not settings.broker:
        fail("REPAIRDESK_BROKER", "not set: jobs run in-process, there is no broker queue to operate")
        raise typer.Exit(1)


def _answer(source: str, ask: Callable[[], T]) -> T:
    """``ask()``, or exit 1 with one line naming ``source`` (never a traceback)."""
    try:
        return ask()
    except Exception as exc:
        fail(source, f"{type(exc).__name__}: {exc}"[:300])
        raise typer.Exit(1) from None


def _on_broker(operate: Callable[[Database], T]) -> T:
    """``operate(db)`` on the configured broker: exit 1 without one, or when it does not answer."""
    settings, db = _services()
    _require_broker(settings)
    return _answer("broker", lambda: operate(db))


@app.command("status")
def status() -> None:
    """Print jobs by state and the dead-letter queue's depth as JSON."""
    from sqlalchemy import func, select

    from app.db.models import Job

    settings, db = _services()

    def count() -> list[tuple[str, int]]:
        with db.session() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        return [(str(s), int(n)) for s, n in rows]

    report: dict[str, object] = {"jobs": dict(_answer("database", count))}
    if settings.broker:
        from app.jobs.dead_letters import dead_letter_depth

        report["dead_letters"] = _answer("broker", dead_letter_depth)
    emit_json(report)


@app.command("republish")
def republish(
    older_than: Annotated[
        float, typer.Option("--older-than", min=0, help="Seconds a job has been queued.")
    ] = 60.0,
) -> None:
    """Publish a triage task for every job still queued after --older-than seconds."""
    from app.jobs.dispatch import republish_queued

    count = _on_broker(lambda db: republish_queued(db, older_than))
    typer.echo(f"republished {count} queued jobs")


@app.command("replay-dead-letters")
def replay(
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many messages.")] = 1000,
) -> None:
    """Requeue dead-lettered triage jobs (cases back to `queued`, audit event `triage_requeued`)."""
    from app.jobs.dead_letters import replay_dead_letters

    cases = _on_broker(lambda db: replay_dead_letters(db, limit))
    typer.echo(f"replayed {len(cases)} dead-lettered jobs" + (f": {', '.join(cases[:20])}" if cases else ""))
