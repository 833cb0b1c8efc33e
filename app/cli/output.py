"""Small helpers shared by CLI commands: JSON output and one-line failure messages."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def fail(source: str, reason: str) -> None:
    """One line on stderr naming the input and the reason; the caller decides the exit code."""
    sys.stderr.write(f"error: {source}: {reason}\n")
