"""The `repairdesk` command line. Each command group lives in its own module of this package.

Exit codes: 0 success, 1 a processed input failed (stderr names the input and the reason), 2 usage.
Heavy imports (torch, langgraph, fastapi) happen inside commands so `--help` stays instant.
"""

from __future__ import annotations

import typer

from app.cli import (
    audit,
    bootstrap,
    evaluation,
    extract,
    index,
    monitor,
    refdata,
    search,
    serve,
    token,
    triage,
    worker,
)
from app.cli import jobs as jobs_cli
from app.cli import model as model_cli
from app.cli import stp as stp_cli

cli = typer.Typer(
    name="repairdesk",
    help="RepairDesk: payment-exception repair with evidence, procedures and human review.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@cli.callback()
def _start(ctx: typer.Context) -> None:
    """Every command starts here: the environment is read once (``Settings``), handed to ``tools/``
    and ``agents/`` (docs/configuration.md), and a lazy :class:`CliContext` built for the command
    (unless the caller brought one: ``cli(obj=CliContext(...))``)."""
    from app.cli.context import CliContext
    from app.settings import Settings, configure_process

    if not isinstance(ctx.obj, CliContext):
        ctx.obj = CliContext(Settings())
    configure_process(ctx.obj.settings)


for module in (extract, search, triage, serve, bootstrap, worker):
    module.register(cli)
cli.add_typer(index.app, name="index", help="Build the procedure index.")
cli.add_typer(refdata.app, name="refdata", help="Load reference data.")
cli.add_typer(evaluation.app, name="eval", help="Offline evaluation: run, compare, gate, export-corrections.")
cli.add_typer(monitor.app, name="monitor", help="Drift and model monitoring: report.")
cli.add_typer(token.app, name="token", help="API tokens.")
cli.add_typer(audit.app, name="audit", help="Audit trail.")
cli.add_typer(jobs_cli.app, name="jobs", help="Broker queue: status, republish, replay dead letters.")
cli.add_typer(model_cli.app, name="model", help="Model registry: list, train, promote (gated), rollback.")
cli.add_typer(stp_cli.app, name="stp", help="Straight-through processing: fit, show, kill switch.")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
