"""`repairdesk index build [--corpus DIR]...`: (re)build the procedure index, incrementally.

Exit 0 with a one-line summary (chunks, how many were embedded and how many reused); exit 1 with one
line naming the bad input (a missing folder, a malformed procedure file) and nothing written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import emit_json, fail

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(no_args_is_help=True)


@app.command("build")
def build(
    corpus: Annotated[
        list[Path] | None,
        typer.Option(
            "--corpus",
            help="Corpus folder of Markdown procedures (repeatable). "
            "Default: corpora/procedures and corpora/reference.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-embed every chunk.")] = False,
    refresh_cache: Annotated[
        bool,
        typer.Option(
            "--refresh-cache",
            help="Re-embed every chunk and rewrite the committed embedding cache (corpora/index-cache).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the build report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Build the index under $REPAIRDESK_DATA_DIR/index, re-embedding only what changed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tools.errors import RepairDeskError
    from tools.retrieval.index_store import build_index
    from tools.retrieval.procedures import default_corpus_dirs

    dirs = list(corpus) if corpus else [d for d in default_corpus_dirs() if d.is_dir()]
    columns = (TextColumn("embedding chunks"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # The bar goes to stderr so that --json output stays clean on stdout.
    with Progress(*columns, disable=quiet, transient=True, console=_stderr_console()) as bar:
        task = bar.add_task("embed", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = build_index(dirs, force=force, progress=progress, refresh_cache=refresh_cache)
        except RepairDeskError as exc:
            fail(exc.source or ", ".join(map(str, dirs)), exc.reason)
            raise typer.Exit(1) from None
    if report.cache_written:
        typer.echo(f"embedding cache rewritten: {report.cache_written} vectors", err=True)
    if as_json:
        emit_json(
            {
                "index_dir": str(report.index_dir),
                "chunks": report.chunks,
                "embedded": report.embedded,
                "reused": report.reused,
                "from_cache": report.from_cache,
                "cache_written": report.cache_written,
                "files": report.files,
                "changed_files": report.changed_files,
                "removed_files": report.removed_files,
                "index_type": report.index_type,
                "seconds": round(report.seconds, 3),
                "up_to_date": report.up_to_date,
            }
        )
        return
    if report.up_to_date:
        typer.echo(f"index up to date: {report.chunks} chunks from {report.files} files ({report.index_dir})")
        return
    typer.echo(
        f"indexed {report.chunks} chunks from {report.files} files: {report.embedded} embedded, "
        f"{report.reused} reused ({report.from_cache} from the embedding cache), "
        f"{report.index_type} index, {report.seconds:.1f}s ({report.index_dir})"
    )


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)
