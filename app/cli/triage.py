"""`repairdesk triage CASE.json... [--json] [--model SPEC]`: run the agent up to human review.

Each file holds one exception case (contract: "Exception case") or a JSON array of them. Every
proposal is printed (``--json``: one object per case, an array when several). A file that cannot be
read or a case that fails is named on stderr with the reason and the exit code is 1; the other
cases still run. A bad ``--model`` is a usage error (exit 2). Proposals are not persisted here:
``repairdesk serve`` and its workers keep cases and their review threads.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.output import emit_json, fail


def register(cli: typer.Typer) -> None:
    cli.command("triage")(triage)


def _cases(path: Path) -> list[dict[str, Any]]:
    from tools.errors import ValidationError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValidationError("no such file", source=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read: {exc}", source=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(f"not JSON: {exc.msg} at line {exc.lineno}", source=str(path)) from exc
    cases = data if isinstance(data, list) else [data]
    if not cases or not all(isinstance(c, dict) for c in cases):
        raise ValidationError("expected an exception case object or an array of them", source=str(path))
    return cases


def triage(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="Exception case files (JSON, contract: Exception case).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (an array when several).")] = False,
    model: Annotated[
        str | None,
        typer.Option("--model", help="playbook | bedrock:<id> | openai:<model> | llamacpp:<path.gguf>"),
    ] = None,
) -> None:
    """Triage exception cases and print each repair proposal (nothing is applied)."""
    from app.cli.context import context
    from app.cli.remote import Remote, Unreachable

    cli = context(ctx)
    remote = Remote.from_settings(cli.settings) if model is None else None
    if remote is not None:  # REPAIRDESK_API_URL: a running server has the agent loaded already
        try:
            _triage_all(paths, as_json, RemoteStart(remote))
            return
        except Unreachable as exc:
            remote.note_local(str(exc))
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.runner import TriageRunner
    from tools.errors import RepairDeskError

    try:
        # The search is opened when the first case needs the toolbox (with the NumPy query embedder).
        runner = TriageRunner(model=model, checkpointer=InMemorySaver(), search=LazySearch(cli))
    except RepairDeskError as exc:
        fail("--model", exc.reason)
        raise typer.Exit(2) from exc
    _triage_all(paths, as_json, lambda case: runner.start(case, f"cli-{uuid.uuid4().hex}"))


def _triage_all(paths: list[Path], as_json: bool, start: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Each case through ``start``, locally or on a server. Intended same shape as `repairdesk extract`:
    each input fails alone (one line on stderr, exit 1 at the end), the rest go on."""
    from tools.errors import RepairDeskError

    proposals: list[dict[str, Any]] = []
    failed = False
    for path in paths:
        try:
            cases = _cases(path)
        except RepairDeskError as exc:
            fail(str(path), exc.reason)
            failed = True
            continue
        for index, case in enumerate(cases):
            name = str(path) if len(cases) == 1 else f"{path}[{index}]"
            try:
                proposal = start(case)
            except RepairDeskError as exc:
                fail(name, exc.reason)
                failed = True
                continue
            proposal.setdefault("straight_through", False)  # the CLI never applies anything
            proposals.append(proposal)
            if not as_json:
                _print_summary(name, proposal)
    if as_json:
        emit_json(proposals[0] if len(proposals) == 1 else proposals)
    if failed:
        raise typer.Exit(1)


class RemoteStart:
    """A case answered by the server. ``Unreachable`` before its first answer propagates (nothing is
    printed yet: the command then runs locally); after that, and on a refusal, the case alone fails."""

    def __init__(self, remote: Any) -> None:
        self.remote = remote
        self.answered = False

    def __call__(self, case: dict[str, Any]) -> dict[str, Any]:
        from app.cli.remote import Refused, Unreachable
        from tools.errors import RepairDeskError

        try:
            proposal: dict[str, Any] = self.remote.triage(case)
        except Refused as exc:
            self.answered = True
            raise RepairDeskError(exc.reason) from exc
        except Unreachable as exc:
            if not self.answered:
                raise
            raise RepairDeskError(f"{self.remote.url} stopped answering: {exc}") from exc
        self.answered = True
        return proposal


class LazySearch:
    """Opens the command's procedure search on the first query; ``None`` hits when there is none."""

    def __init__(self, cli: Any) -> None:
        self._cli = cli

    def search(self, query: str, **options: Any) -> list[Any]:
        search = self._cli.search_or_none()
        return [] if search is None else list(search.search(query, **options))


def _print_summary(name: str, proposal: dict[str, Any]) -> None:
    procedure = proposal.get("procedure") or "no procedure"
    typer.echo(
        f"{name}: {proposal['exception_code']} -> {proposal['action']} "
        f"(confidence {proposal['confidence']:.2f}, {proposal['model']}, {procedure})"
    )
    for change in proposal["changes"]:
        typer.echo(
            f"  {change['field']}: {change['old']!r} -> {change['new']!r}  [{', '.join(change['evidence'])}]"
        )
    guard = proposal["guard"]
    if not guard["passed"]:
        for violation in guard["violations"]:
            typer.echo(f"  ! guard {violation['code']}: {violation['message']}")
    if proposal.get("four_eyes"):
        typer.echo(f"  four-eyes approval required (amount above {proposal['four_eyes_above']})")
    typer.echo(f"  {proposal['rationale']}")
    for citation in proposal["citations"]:
        row = f", decision-table row {citation['row']} (the rule applied)" if citation.get("row") else ""
        typer.echo(f"  see {citation['doc_id']} section {citation['section']}{row}")
