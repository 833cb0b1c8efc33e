"""`repairdesk extract PATH... [--json]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.output import emit_json, fail

UNKNOWN_TYPE = (
    "cannot tell the document type: not a SWIFT MT or ISO 20022 message, a statement, an invoice "
    "or a remittance advice"
)


def register(cli: typer.Typer) -> None:
    cli.command("extract")(extract)


def extract(
    paths: Annotated[list[Path], typer.Argument(help="Files to read: FIN, ISO 20022 XML, PDF or image.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (an array when several).")] = False,
) -> None:
    """Detect each document's type from its content and print the canonical extraction.

    Exits 1 when any file cannot be read or its type cannot be told (the error names the file)."""
    from tools.errors import RepairDeskError
    from tools.extract import extract_path

    results: list[dict[str, Any]] = []
    failed = False
    for path in paths:
        try:
            extractions = extract_path(path)
        except RepairDeskError as exc:
            fail(str(path), exc.reason)
            failed = True
            continue
        known = [e for e in extractions if e.doc_type != "unknown"]
        if not known:
            # Nothing recognised: an error naming the file, not an empty result and exit 0.
            fail(str(path), UNKNOWN_TYPE)
            failed = True
            continue
        for extraction in known:
            results.append(extraction.to_json_dict())
            if not as_json:
                _print_summary(extraction.to_json_dict())
    if as_json and (results or not failed):
        emit_json(results[0] if len(results) == 1 else results)
    if failed:
        raise typer.Exit(1)


def _print_summary(result: dict[str, Any]) -> None:
    typer.echo(f"{result['source']}: {result['doc_type']}")
    for field in result.get("fields", []):
        typer.echo(f"  {field['name']:<45} {field['value']}  ({field['confidence']:.2f})")
    for finding in result.get("findings", []):
        typer.echo(f"  ! {finding['severity']:<7} {finding['code']}: {finding['message']}")
    if not result.get("fields"):
        typer.echo(json.dumps({k: v for k, v in result.items() if k not in {"source", "doc_type"}}, indent=2))
