"""`repairdesk stp fit | show | kill-switch`: straight-through policies and the kill switch.

``fit`` derives one threshold per exception code and action from held-out decided cases (the
database's decision records, or an exported corrections dataset with ``--dataset``) and stores the
result as the next policy version, which is in force at once (``--dry-run`` only prints it). ``show``
prints the switches and the policy in force (or ``--version N``). ``kill-switch --on/--off`` is the
operator's way to stop auto-apply when the API is not at hand; like the API's, it is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.output import emit_json, fail

if TYPE_CHECKING:
    from app.db.session import Database

app = typer.Typer(no_args_is_help=True)
ACTOR = "cli"


def _database() -> Database:
    from app.db.session import Database
    from app.services.audit_keys import resolve_key
    from app.settings import get_settings

    settings = get_settings()
    db = Database(settings.database_url, audit_key=resolve_key(settings))
    db.migrate()
    return db


def rule_lines(rules: Iterable[dict[str, Any]]) -> list[str]:
    """The policy's rules as a table: key, decisions, threshold, count and errors at it, bound."""
    header = ("code/action", "n", "eligible", "threshold", "at t", "wrong", "bound95")
    lines = ["{:<34} {:>6} {:<8} {:>9} {:>6} {:>5} {:>8}".format(*header)]
    for rule in rules:
        threshold = "-" if rule.get("threshold") is None else f"{rule['threshold']:.3f}"
        lines.append(
            f"{rule['exception_code'] + '/' + rule['action']:<34} {rule['n']:>6} "
            f"{'yes' if rule['eligible'] else 'no':<8} {threshold:>9} {rule['n_at_threshold']:>6} "
            f"{rule['wrong_at_threshold']:>5} {rule['upper_bound']:>8.4f}"
        )
    return lines


def overall_line(summary: dict[str, Any]) -> str:
    return (
        f"overall: {summary['applied']} of {summary['n']} straight-through ({summary['share']:.1%}), "
        f"{summary['wrong']} wrong, 95% upper bound of the wrong-repair rate {summary['upper_bound']:.4f}"
    )


def _records(dataset: Path | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Decision records and where they came from: an exported dataset, or the database."""
    if dataset is not None:
        from evals.base import SuiteOptions
        from evals.suites.corrections import load

        rows, entry = load(SuiteOptions(corrections=dataset))
        return rows, {"kind": "dataset", **{k: entry.get(k) for k in ("file", "version", "sha256", "count")}}
    from app.services.corrections import labelled_records

    with _database().session() as session:
        rows = labelled_records(session)
    return rows, {"kind": "decisions", "count": len(rows)}


@app.command("fit")
def fit(
    dataset: Annotated[
        Path | None, typer.Option(help="An exported corrections dataset (default: the database's decisions).")
    ] = None,
    calibrator: Annotated[
        str | None, typer.Option(help="Only decisions on proposals of this calibrator version.")
    ] = None,
    min_count: Annotated[int | None, typer.Option(help="Default $REPAIRDESK_STP_MIN_COUNT.")] = None,
    max_wrong_rate: Annotated[
        float | None, typer.Option(help="Default $REPAIRDESK_STP_MAX_WRONG_RATE.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the policy; store nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fit a straight-through policy from held-out decided cases and put it in force."""
    from app.services import stp
    from app.settings import get_settings
    from tools.errors import RepairDeskError

    settings = get_settings()
    try:
        records, source = _records(dataset)
    except RepairDeskError as exc:
        fail(exc.source or "stp fit", exc.reason)
        raise typer.Exit(1) from exc
    points = stp.decision_points(records, calibrator=calibrator)
    source |= {"points": len(points), "calibrator": calibrator}
    policy = stp.build_policy(
        points,
        target=max_wrong_rate if max_wrong_rate is not None else settings.stp_max_wrong_rate,
        min_count=min_count if min_count is not None else settings.stp_min_count,
        source=source,
    )
    version = None
    if not dry_run:
        with _database().session() as session:
            version = stp.store_policy(session, policy, actor=ACTOR).version
            session.commit()
    if as_json:
        emit_json({"version": version, **policy})
        return
    for line in rule_lines(policy["rules"]):
        typer.echo(line)
    typer.echo(overall_line(policy["overall"]))
    typer.echo(f"policy v{version} in force" if version else "dry run: nothing stored")


@app.command("show")
def show(
    version: Annotated[int | None, typer.Option(help="A stored version (default: the one in force).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print the STP switches and a policy with its rule per exception code and action."""
    from app.services import stp
    from app.settings import get_settings
    from tools.errors import RepairDeskError

    with _database().session() as session:
        state = stp.status(session, stp.StpOptions.from_settings(get_settings()))
        if version is not None:
            try:
                state["policy"] = stp.policy_json(stp.policy_version(session, version))
            except RepairDeskError as exc:
                fail(exc.source or "stp show", exc.reason)
                raise typer.Exit(1) from exc
    if as_json:
        emit_json(state)
        return
    switch = state["kill_switch"]
    engaged = "ON" if switch["engaged"] else "off"
    typer.echo(f"enabled: {state['enabled']}  kill switch: {engaged}  active: {state['active']}")
    policy = state["policy"]
    if policy is None:
        typer.echo("no policy fitted: nothing is eligible (`repairdesk stp fit`)")
        return
    typer.echo(f"policy v{policy['version']} by {policy['created_by']} at {policy['created_at']}")
    for line in rule_lines(policy["rules"]):
        typer.echo(line)


@app.command("kill-switch")
def kill_switch(
    on: Annotated[bool, typer.Option("--on/--off", help="--on stops auto-apply now; --off allows it again.")],
    reason: Annotated[str, typer.Option(help="Why (audited).")],
) -> None:
    """Engage or release the STP kill switch (every worker sees it at its next case)."""
    from app.services import stp

    with _database().session() as session:
        stp.set_kill_switch(session, on, actor=ACTOR, role=stp.ADMIN_ROLE, reason=reason)
        session.commit()
    typer.echo(f"STP kill switch {'ON: straight-through stopped' if on else 'off'}")
