"""`repairdesk eval run | compare | gate | export-corrections | manifest`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.output import emit_json, fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.services.corrections import Export

app = typer.Typer(no_args_is_help=True)


@app.command("run")
def run(
    suite: Annotated[
        str,
        typer.Option(
            help="extraction | retrieval | agent | rag | adversarial | corrections | all"
            " | agent-unseen (measure only) | perturbed | stp (straight-through share and bound)"
        ),
    ],
    model: Annotated[
        str | None, typer.Option(help="Model SPEC (default $REPAIRDESK_MODEL or playbook).")
    ] = None,
    judge: Annotated[str | None, typer.Option(help="Judge SPEC: adds the LLM-judged RAGAS metrics.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default evals/runs/<timestamp>).")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N samples of each dataset.")] = None,
    corrections: Annotated[
        Path | None,
        typer.Option(help="Corrections export to replay (default: the latest under the data directory)."),
    ] = None,
    refdata: Annotated[
        Path | None, typer.Option(help="Reference data file the agent suites replay against (default: demo).")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Run a suite offline; writes metrics.json, samples.jsonl and report.html."""
    from evals.base import SuiteOptions
    from evals.runner import OPTIONAL_SUITES, default_out_dir, expand, run_suites, skipped
    from tools import config
    from tools.errors import RepairDeskError

    try:
        out_dir = out or default_out_dir()
        options = SuiteOptions(
            model=model or config.current().model,
            judge=judge,
            limit=limit,
            cache_dir=out_dir.parent / ".judge-cache",
            progress=not quiet,
            corrections=corrections,
            refdata=refdata,
        )
        suites = expand(suite, options)
        if suite == "all":
            for reason in filter(None, (skipped(name, options) for name in OPTIONAL_SUITES)):
                typer.echo(f"skipped {reason}", err=True)
        document = run_suites(suites, options, out_dir)
    except RepairDeskError as exc:
        fail(exc.source or "eval run", exc.reason)
        raise typer.Exit(1) from exc
    for name, metric in document["metrics"].items():
        low, high = metric["ci95"]
        typer.echo(f"{name:<60} {metric['value']:.4f}  [{low:.4f}, {high:.4f}]  n={metric['n']}")
    if "stp" in document["suites"]:
        print_stp(document["suites"]["stp"])
    typer.echo(f"run written to {out_dir}")


def print_stp(summary: dict[str, Any]) -> None:
    """The STP suite's policy per code/action (fitted on one half) and the share and bound on the other."""
    from app.cli.stp import overall_line, rule_lines

    policy = summary["policy"]
    typer.echo(
        f"STP policy on the fitting half ({summary['split']['fitting']} cases; wrong-repair bound "
        f"<= {policy['target']:g} at {policy['level']:.0%}, at least {policy['min_count']} cases):"
    )
    for line in rule_lines(policy["rules"]):
        typer.echo(f"  {line}")
    typer.echo(f"  fitting half {overall_line(policy['overall'])}")
    typer.echo(f"  held-out half {overall_line(summary['held_out'])}")


@app.command("compare")
def compare(
    run_a: Annotated[Path, typer.Argument(help="Champion run directory.")],
    run_b: Annotated[Path, typer.Argument(help="Challenger run directory.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Paired comparison of two runs on the same samples (B - A with paired bootstrap intervals)."""
    from evals.compare import compare_runs
    from tools.errors import RepairDeskError

    try:
        result = compare_runs(run_a, run_b)
    except RepairDeskError as exc:
        fail(exc.source or str(run_b), exc.reason)
        raise typer.Exit(1) from exc
    if as_json:
        emit_json(result)
        return
    typer.echo(f"{result['paired_samples']} paired samples")
    for name, m in result["metrics"].items():
        typer.echo(
            f"{name:<55} A={m['a']:.4f} B={m['b']:.4f} diff={m['difference']:+.4f} "
            f"[{m['ci95'][0]:+.4f}, {m['ci95'][1]:+.4f}]  {m['verdict']}"
        )


@app.command("gate")
def gate(
    baseline: Annotated[Path, typer.Option(help="Baseline JSON (metrics with value and tolerance).")],
    run_dir: Annotated[
        Path | None, typer.Option("--run", help="Check this finished run instead of running.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Override the baseline's sample limit.")] = None,
    corrections: Annotated[
        Path | None, typer.Option(help="Corrections export (default: the latest under the data directory).")
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Write the baseline's paired per-question values from this run.")
    ] = False,
) -> None:
    """Exit 1 when a metric falls below its baseline beyond its tolerance, or a paired metric loses
    significantly on the same questions (evals/gate.py)."""
    from evals.base import SuiteOptions, read_run
    from evals.gate import check, read_baseline
    from evals.runner import default_out_dir, run_suites
    from tools import config
    from tools.errors import RepairDeskError

    try:
        spec = read_baseline(baseline)
        if run_dir is None:
            out_dir = default_out_dir()
            options = SuiteOptions(
                model=config.current().model,
                limit=limit if limit is not None else spec.get("limit"),
                progress=False,
                corrections=corrections,
            )
            suites = spec.get("suites") or sorted({name.split(".", 1)[0] for name in spec["metrics"]})
            run_suites(suites, options, out_dir)
        document, rows = read_run(run_dir if run_dir is not None else out_dir)
        if record:
            _record_paired(baseline, spec, rows)
        paired = _check_paired(baseline, spec, rows)
    except RepairDeskError as exc:
        fail(exc.source or str(baseline), exc.reason)
        raise typer.Exit(1) from exc
    failures = check(spec, document["metrics"])
    for name in spec["metrics"]:
        observed = document["metrics"].get(name, {}).get("value")
        mark = "FAIL" if any(f.metric == name for f in failures) else "ok"
        typer.echo(f"{mark:<5} {name:<55} baseline={spec['metrics'][name]['value']} observed={observed}")
    for result in paired:
        mark = "FAIL" if result.failure else "ok"
        typer.echo(
            f"{mark:<5} {result.metric:<55} paired n={result.questions} baseline={result.baseline:.4f} "
            f"observed={result.observed:.4f} diff={result.diff:+.4f} "
            f"[{result.ci95[0]:+.4f}, {result.ci95[1]:+.4f}]"
        )
    if failures or any(r.failure for r in paired):
        for failure in failures:
            typer.echo(f"regression: {failure.metric}: {failure.reason}", err=True)
        for result in paired:
            if result.failure:
                typer.echo(f"regression: {result.metric}: {result.failure}", err=True)
        raise typer.Exit(1)


def _record_paired(baseline: Path, spec: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    import json

    from evals.gate import record_paired
    from tools.errors import ValidationError

    if not spec.get("paired"):
        raise ValidationError("this baseline has no 'paired' section to record", source=str(baseline))
    target = baseline.parent / str(spec["paired"]["samples"])
    target.write_text(json.dumps(record_paired(spec, rows), indent=1, sort_keys=True) + "\n")
    typer.echo(f"recorded paired per-question values in {target}", err=True)


def _check_paired(baseline: Path, spec: dict[str, Any], rows: list[dict[str, Any]]) -> list[Any]:
    from evals.gate import check_paired, read_paired_samples

    return check_paired(spec, rows, read_paired_samples(baseline, spec))


@app.command("export-corrections")
def export_corrections(
    out: Annotated[
        Path | None,
        typer.Option(help="Dataset folder (default <REPAIRDESK_DATA_DIR>/datasets/corrections)."),
    ] = None,
) -> None:
    """Write the decided cases (one gold label per case) as a new versioned dataset with a manifest."""
    from app.db.session import Database
    from app.services.corrections import default_root
    from app.settings import get_settings

    settings = get_settings()
    database = Database(settings.database_url)
    database.migrate()
    with database.session() as session:
        result = export_and_record(session, out or default_root(settings.data_dir))
    state = "new version" if result.created else "unchanged, latest version"
    typer.echo(f"exported {result.count} labelled case(s): {state} v{result.version} at {result.path}")


def export_and_record(session: Session, root: Path) -> Export:
    """Export the labelled cases under ``root`` as a dataset version (``root/v<N>``, with its manifest)."""
    from app.services.corrections import export_dataset

    return export_dataset(session, root)


@app.command("manifest")
def manifest(
    update: Annotated[
        bool, typer.Option("--update", help="Record changed datasets as new versions.")
    ] = False,
) -> None:
    """Show (or update) the dataset manifest: name, version, rows, hash, origin."""
    from evals import datasets

    if update:
        for path in sorted(datasets.datasets_dir().glob("*.jsonl")):
            datasets.update(path.stem)
    for name, entry in datasets.read_manifest()["datasets"].items():
        typer.echo(
            f"{name:<22} v{entry['version']:<3} {entry['count']:>5} rows  "
            f"{entry['origin']:<18} {entry['sha256'][:12]}"
        )
