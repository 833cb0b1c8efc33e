"""Prompt templates live in ``prompts/<name>.v<N>.md``; this module loads and fills them.

Contract: :func:`load_prompt` returns the template text (the file's first ``<!-- ... -->`` header
comment removed) and :func:`fill` substitutes ``$name`` placeholders (``string.Template``, so JSON
braces in a prompt need no escaping). A missing file raises :class:`tools.errors.NotFoundError`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from string import Template

from tools.config import prompts_dir
from tools.errors import NotFoundError

_HEADER = re.compile(r"^\s*<!--.*?-->\s*", re.DOTALL)


@lru_cache(maxsize=32)
def load_prompt(name: str) -> str:
    """The template ``prompts/<name>.md`` (``name`` includes the version, e.g. ``propose_repair.v1``)."""
    path = prompts_dir() / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError("prompt template not found", source=str(path)) from exc
    return _HEADER.sub("", text, count=1).strip()


def fill(name: str, **values: str) -> str:
    return Template(load_prompt(name)).safe_substitute(values)
