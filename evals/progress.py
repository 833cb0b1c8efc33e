"""Progress bars for long evaluation runs (rich, on stderr so stdout stays the command's output).

``track(items, "retrieval", enabled=True)`` yields the items while drawing a bar with the count, the
elapsed and the remaining time; ``status("loading the index")`` shows a spinner around a step that
has no count (loading models). Both do nothing when disabled (``--quiet``) and fall back to one final
line when stderr is not a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")
_console = Console(stderr=True)


def track(items: Iterable[T], description: str, *, enabled: bool = True) -> Iterator[T]:
    if not enabled:
        yield from items
        return
    total = len(items) if isinstance(items, Sized) else None
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=_console, transient=False) as progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)


@contextmanager
def status(message: str, *, enabled: bool = True) -> Iterator[None]:
    if not enabled:
        yield
        return
    with _console.status(message):
        yield
    _console.log(f"{message}: done")
