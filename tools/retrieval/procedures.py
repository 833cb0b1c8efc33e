"""Procedure files: Markdown with YAML front matter, numbered sections and an optional playbook block.

Contract (see docs/playbook.md and docs/retrieval.md):

- :func:`parse_procedure` reads one file into a :class:`Procedure`; a file that has no front matter,
  invalid YAML, no ``doc_id`` or more than one ``playbook`` block raises
  :class:`tools.errors.ValidationError` naming the file and the reason.
- :func:`load_procedures` reads every ``*.md`` file of a folder (sorted by path, ``README.md`` and
  files starting with ``_`` skipped) and rejects duplicate ``doc_id`` values.
- :func:`get_procedure` finds a procedure of the product's own corpus (``corpora/procedures`` and
  ``corpora/reference``) by ``doc_id``; an unknown id raises :class:`tools.errors.NotFoundError`.

A section's ``id`` is its number ("3.2", no trailing dot) or, when its heading has no number, the
heading text. That id is the ``section`` of a retrieval hit and of a citation.
"""

from __future__ import annotations

import re
import threading
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from tools import config
from tools.errors import NotFoundError, ValidationError

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(.*)$")
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w.+-]*)")

Kind = Literal["procedure", "reference"]


class Section(BaseModel):
    """One heading and the text directly under it (up to the next heading of any level)."""

    id: str = Field(description="the section number ('3.2') or, without a number, the heading text")
    number: str | None = None
    heading: str = Field(description="heading text without its number")
    level: int
    path: list[str] = Field(default_factory=list, description="headings from the top, this one last")
    text: str = Field(default="", description="body text; the playbook block is left out")


class Procedure(BaseModel):
    """A parsed procedure (or generated reference document) and its front matter."""

    doc_id: str
    title: str
    version: str = ""
    effective_date: str | None = None
    owner: str | None = None
    exception_codes: list[str] = Field(default_factory=list)
    message_types: list[str] = Field(default_factory=list)
    rails: list[str] = Field(default_factory=list)
    kind: Kind = "procedure"
    sections: list[Section] = Field(default_factory=list)
    playbook: dict[str, Any] | None = None
    path: str = ""
    front_matter: dict[str, Any] = Field(default_factory=dict)

    def section(self, section_id: str) -> Section | None:
        """The section whose id is ``section_id`` (or None)."""
        return next((s for s in self.sections if s.id == section_id), None)


def parse_procedure(path: Path) -> Procedure:
    """Parse one procedure file; raises ValidationError naming the file on malformed input."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read procedure: {exc}", source=str(path)) from exc
    return parse_procedure_text(raw, source=str(path))


def parse_procedure_text(raw: str, *, source: str) -> Procedure:
    """Parse procedure Markdown held in memory; ``source`` names it in errors."""
    meta, body = _split_front_matter(raw, source)
    doc_id = meta.get("doc_id")
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise ValidationError("front matter has no doc_id", source=source)
    sections, playbook_texts = _parse_body(body)
    if len(playbook_texts) > 1:
        raise ValidationError(f"{len(playbook_texts)} playbook blocks; at most one allowed", source=source)
    playbook = _parse_playbook(playbook_texts[0], source) if playbook_texts else None
    title = str(meta.get("title") or next((s.heading for s in sections if s.level == 1), doc_id))
    kind = meta.get("kind", "procedure")
    if kind not in ("procedure", "reference"):
        raise ValidationError(f"kind must be 'procedure' or 'reference', not {kind!r}", source=source)
    return Procedure(
        doc_id=doc_id.strip(),
        title=title,
        version=str(meta.get("version", "")),
        effective_date=_as_text(meta.get("effective_date")),
        owner=_as_text(meta.get("owner")),
        exception_codes=_as_list(meta.get("exception_codes"), "exception_codes", source),
        message_types=_as_list(meta.get("message_types"), "message_types", source),
        rails=_as_list(meta.get("rails"), "rails", source),
        kind=kind,
        sections=sections,
        playbook=playbook,
        path=source,
        front_matter={k: (v.isoformat() if isinstance(v, date) else v) for k, v in meta.items()},
    )


def procedure_files(directory: Path) -> list[Path]:
    """The procedure files of a folder, in a stable order (README and ``_*`` files skipped)."""
    if not directory.is_dir():
        raise ValidationError("corpus folder does not exist", source=str(directory))
    return sorted(
        p
        for p in directory.rglob("*.md")
        if p.is_file() and p.name.lower() != "readme.md" and not p.name.startswith("_")
    )


def load_procedures(directory: Path | str) -> list[Procedure]:
    """Every procedure of ``directory``; duplicate doc_ids raise ValidationError naming both files."""
    procedures: list[Procedure] = []
    seen: dict[str, str] = {}
    for path in procedure_files(Path(directory)):
        procedure = parse_procedure(path)
        if procedure.doc_id in seen:
            raise ValidationError(
                f"doc_id {procedure.doc_id} is also used by {seen[procedure.doc_id]}", source=str(path)
            )
        seen[procedure.doc_id] = str(path)
        procedures.append(procedure)
    return procedures


def default_corpus_dirs() -> list[Path]:
    """The product's own corpus: the procedures, then the generated reason-code reference."""
    root = config.corpora_dir()
    return [root / "procedures", root / "reference"]


_cache_lock = threading.Lock()
_cache: dict[tuple[tuple[str, float], ...], dict[str, Procedure]] = {}


def get_procedure(doc_id: str) -> Procedure:
    """The procedure ``doc_id`` of the default corpus (re-read when a file changes).

    Raises NotFoundError when no procedure has that id.
    """
    by_id = _default_corpus()
    try:
        return by_id[doc_id]
    except KeyError:
        raise NotFoundError("no procedure with this doc_id", source=doc_id) from None


def _default_corpus() -> dict[str, Procedure]:
    files = [p for d in default_corpus_dirs() if d.is_dir() for p in procedure_files(d)]
    # The key includes modification times so that an edited corpus is picked up without a restart.
    key = tuple((str(p), p.stat().st_mtime) for p in files)
    with _cache_lock:
        if key not in _cache:
            _cache.clear()
            by_id: dict[str, Procedure] = {}
            for directory in default_corpus_dirs():
                if directory.is_dir():
                    by_id.update({p.doc_id: p for p in load_procedures(directory)})
            _cache[key] = by_id
        return _cache[key]


def _split_front_matter(raw: str, source: str) -> tuple[dict[str, Any], str]:
    text = raw.lstrip("\ufeff")
    if not text.startswith("---"):
        raise ValidationError("missing YAML front matter (the file must start with ---)", source=source)
    lines = text.splitlines()
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise ValidationError("front matter is not closed by ---", source=source)
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise ValidationError(f"front matter is not valid YAML: {exc}", source=source) from exc
    if not isinstance(meta, dict):
        raise ValidationError("front matter must be a YAML mapping", source=source)
    return meta, "\n".join(lines[end + 1 :])


def _parse_body(body: str) -> tuple[list[Section], list[str]]:
    """Split the body at headings (ignoring '#' lines inside fenced blocks); collect playbook blocks."""
    sections: list[Section] = []
    playbooks: list[str] = []
    stack: list[tuple[int, str]] = []  # (level, heading label) of the open headings
    current: Section | None = None
    lines_out: list[str] = []
    fence: str | None = None
    fence_is_playbook = False
    block: list[str] = []

    def close() -> None:
        if current is not None:
            current.text = "\n".join(lines_out).strip()
            sections.append(current)
        elif "\n".join(lines_out).strip():
            # Text before the first heading: kept as an untitled section so nothing is lost.
            sections.append(Section(id="preamble", heading="", level=0, text="\n".join(lines_out).strip()))

    for line in body.splitlines():
        if fence is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
                if fence_is_playbook:
                    playbooks.append("\n".join(block))
                else:
                    lines_out.append(line)
                block = []
                continue
            (block if fence_is_playbook else lines_out).append(line)
            continue
        fence_match = _FENCE.match(line.strip())
        if fence_match:
            fence = fence_match.group(1)
            fence_is_playbook = fence_match.group(2).lower() == "playbook"
            if not fence_is_playbook:
                lines_out.append(line)
            continue
        heading = _HEADING.match(line)
        if not heading:
            lines_out.append(line)
            continue
        close()
        lines_out = []
        level, label = len(heading.group(1)), heading.group(2).strip()
        numbered = _NUMBERED.match(label)
        number = numbered.group(1) if numbered else None
        text = numbered.group(2).strip() if numbered else label
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, label))
        current = Section(
            id=number or text, number=number, heading=text, level=level, path=[h for _, h in stack]
        )
    if fence is not None and fence_is_playbook:
        playbooks.append("\n".join(block))
    close()
    return sections, playbooks


def _parse_playbook(text: str, source: str) -> dict[str, Any]:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"playbook block is not valid YAML: {exc}", source=source) from exc
    if not isinstance(value, dict):
        raise ValidationError("playbook block must be a YAML mapping", source=source)
    return value


def _as_list(value: Any, name: str, source: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    raise ValidationError(f"front matter {name} must be a list", source=source)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)
