"""A cited procedure section for the case page: its text, the decision-table row of the rule applied,
both rendered to HTML on the server (docs/playbook.md).

Procedures come from the one model (:mod:`tools.procedures`), parsed once per corpus version; this
module only selects and renders. Markdown is rendered with raw HTML disabled (markdown-it escapes
it and refuses ``javascript:`` links), so the HTML is safe to insert; text that did not come from
the corpus (a citation stored with a proposal) is escaped, never rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt

from tools.errors import RepairDeskError
from tools.procedures import Procedure, get_procedure, parse_procedure

_DOC_ID = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


@dataclass(frozen=True)
class CitedSection:
    """A section as the case page shows it: Markdown and safe HTML, and the cited row (header + row)."""

    doc_id: str
    section: str
    title: str
    text: str
    html: str
    row: int | None = None
    row_text: str | None = None
    row_html: str | None = None


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML escaped (safe to insert into a page)."""
    return _markdown().render(text)


def _procedure(doc_id: str, root: Path | None) -> Procedure | None:
    try:
        if root is None:
            return get_procedure(doc_id)
        path = root / f"{doc_id}.md"
        return parse_procedure(path) if path.is_file() else None
    except RepairDeskError:
        return None


def section_text(
    doc_id: str, section: str, root: Path | None = None, row: int | None = None
) -> CitedSection | None:
    """The cited section (with its subsections) and, when ``row`` is given, that decision-table row;
    ``None`` when the procedure or the section is not there."""
    if not _DOC_ID.match(doc_id):
        return None
    procedure = _procedure(doc_id, root)
    found = procedure.section(section) if procedure else None
    if procedure is None or found is None:
        return None
    text = procedure.section_markdown(section) or ""
    table = found.decision_table
    cited = table.row(row) if table is not None and row is not None else None
    row_text = None
    if table is not None and cited is not None:
        separator = "|" + "|".join("---" for _ in table.header) + "|"
        row_text = "\n".join(["| " + " | ".join(table.header) + " |", separator, cited.markdown])
    return CitedSection(
        doc_id=doc_id,
        section=section,
        title=found.heading or section,
        text=text,
        html=render_markdown(text),
        row=cited.number if cited else None,
        row_text=row_text,
        row_html=render_markdown(row_text) if row_text else None,
    )
