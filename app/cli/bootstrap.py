"""`repairdesk bootstrap`: everything `make run` needs before `serve`, each step idempotent.

1. migrate the database; 2. build the procedure index when absent or stale (skipped with a warning
when retrieval is not installed, or with ``--no-index``); 3. load the demo reference data
(``corpora/demo/refdata.json``); 4. create the demo tokens (printed; listed in the README);
5. queue the demo exceptions (``corpora/demo/cases/*.json``, else ``evals/datasets/agent_cases.jsonl``)
that are not queued yet. The running server's workers then triage them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.output import fail


def register(cli: typer.Typer) -> None:
    cli.command("bootstrap")(bootstrap)


def _build_index() -> None:
    try:
        from tools.retrieval import index_store
        from tools.retrieval.procedures import default_corpus_dirs
    except ImportError as exc:
        typer.echo(f"warning: procedure retrieval not available, index not built ({exc})", err=True)
        return
    index_dir = index_store.default_index_dir()
    dirs = [d for d in default_corpus_dirs() if d.is_dir()]
    if index_store.is_current(index_dir, dirs):
        typer.echo(f"procedure index up to date ({index_dir})", err=True)
        return
    report = index_store.build_index(dirs, index_dir)
    typer.echo(f"procedure index built: {report.files} files in {report.seconds:.1f} s", err=True)


def _load_refdata(database_url: str, path: Path) -> None:
    if not path.is_file():
        typer.echo(f"warning: no demo reference data at {path}", err=True)
        return
    from tools.db import get_engine
    from tools.refdata.loader import load_file
    from tools.refdata.store import RefDataStore

    report = load_file(path, RefDataStore(get_engine(database_url)))
    counts = ", ".join(f"{n} {kind}" for kind, n in report.counts.items())
    typer.echo(f"reference data loaded from {path.name}: {counts}", err=True)


def demo_cases(repo_root: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(source, case) for each demo case file, or for each line of the agent evaluation dataset."""
    folder = repo_root / "corpora" / "demo" / "cases"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if files:
        for path in files:
            value = json.loads(path.read_text(encoding="utf-8"))
            for item in value if isinstance(value, list) else [value]:
                yield path.name, item
        return
    dataset = repo_root / "evals" / "datasets" / "agent_cases.jsonl"
    if dataset.is_file():
        for number, line in enumerate(dataset.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                yield f"{dataset.name}:{number}", row.get("case", row)


def _enqueue_demo(services: Any, repo_root: Path) -> tuple[int, int]:
    from pydantic import ValidationError as PydanticValidationError

    from app.api.schemas import ExceptionIn
    from app.errors import ConflictError
    from app.services.cases import create_case
    from tools.errors import RepairDeskError

    created = existing = 0
    for source, raw in demo_cases(repo_root):
        fields = {k: v for k, v in raw.items() if k in ExceptionIn.model_fields}
        try:
            body = ExceptionIn.model_validate(fields)
            with services.db.session() as session:
                result = create_case(
                    session,
                    services.store,
                    body,
                    user="demo-service",
                    idempotency_key=f"demo:{body.case_id or source}",
                )
        except ConflictError:  # the demo case is there already (from an older copy of the dataset)
            existing += 1
            continue
        except (PydanticValidationError, RepairDeskError) as exc:
            fail(source, str(exc).splitlines()[0])
            continue
        created += result.created
        existing += not result.created
    return created, existing


def bootstrap(
    no_index: Annotated[bool, typer.Option("--no-index", help="Do not build the procedure index.")] = False,
    no_demo: Annotated[bool, typer.Option("--no-demo", help="No demo data, tokens or cases.")] = False,
) -> None:
    """Migrate, build the index, load demo reference data, create demo tokens and queue the demo cases."""
    from app.main import build_services
    from app.services.auth import DEMO_TOKENS, create_token
    from app.settings import Settings
    from tools.config import REPO_ROOT
    from tools.errors import RepairDeskError

    settings = Settings()
    services = build_services(settings)
    services.db.migrate()
    typer.echo(f"database ready ({services.db.engine.url.render_as_string(hide_password=True)})", err=True)
    if not no_index:
        try:
            _build_index()
        except RepairDeskError as exc:
            typer.echo(f"warning: procedure index not built: {exc}", err=True)
    if no_demo:
        return
    try:
        _load_refdata(settings.database_url, REPO_ROOT / "corpora" / "demo" / "refdata.json")
    except ImportError as exc:
        typer.echo(f"warning: reference data store not available ({exc})", err=True)
    except RepairDeskError as exc:
        fail("corpora/demo/refdata.json", exc.reason)
    with services.db.session() as session:
        for token, (user, role) in DEMO_TOKENS.items():
            create_token(session, user, role, token)
        session.commit()
    typer.echo("demo tokens (Authorization: Bearer <token>, or sign in at /ui):")
    for token, (user, role) in DEMO_TOKENS.items():
        typer.echo(f"  {role:<9} {user:<15} {token}")
    created, existing = _enqueue_demo(services, REPO_ROOT)
    typer.echo(f"demo queue: {created} cases queued, {existing} already there", err=True)
