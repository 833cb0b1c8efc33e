"""`repairdesk search "QUERY" [--code CODE] [--message-type MT] [-k N] [--mode MODE] [--json]`.

With ``--json``: a JSON array of hits, each ``{"doc_id", "section", "title", "text", "score"}``
(contract). Without: one ranked line per hit and the first line of its text. Exit 1 with one line
naming the bad input (empty query, k out of range, malformed code, no index and no corpus to build
it from).
"""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import emit_json, fail


def register(cli: typer.Typer) -> None:
    cli.command("search")(search)


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What you are looking for, in your own words.")],
    code: Annotated[
        str | None, typer.Option("--code", help="Only procedures for this exception code.")
    ] = None,
    message_type: Annotated[
        str | None, typer.Option("--message-type", help="Only procedures for this message type (MT103...).")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Number of hits.")] = 5,
    mode: Annotated[str, typer.Option("--mode", help="hybrid | bm25 | dense")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of hits.")] = False,
) -> None:
    """Search the procedures (builds the index first when there is none)."""
    from app.cli.context import context
    from tools.errors import RepairDeskError
    from tools.retrieval.search import MODES, check_request

    try:
        if mode not in MODES:
            raise _bad(f"--mode must be one of {', '.join(MODES)}", mode)
        # Bad arguments fail before the index is opened (or built) and the model loaded.
        check_request(query, k=k, mode=mode, code=code)
        hits = context(ctx).search().search(query, code=code, message_type=message_type, k=k, mode=mode)
    except RepairDeskError as exc:
        fail(exc.source or "query", exc.reason)
        raise typer.Exit(1) from None
    if as_json:
        emit_json([hit.model_dump() for hit in hits])
        return
    if not hits:
        typer.echo("no matching procedure")
    for rank, hit in enumerate(hits, 1):
        first = next((line for line in hit.text.splitlines()[1:] if line.strip()), "")
        typer.echo(f"{rank}. {hit.doc_id} §{hit.section}  {hit.title}  ({hit.score:.4f})")
        if first:
            typer.echo(f"   {first[:120]}")


def _bad(reason: str, source: str) -> Exception:
    from tools.errors import ValidationError

    return ValidationError(reason, source=source)
