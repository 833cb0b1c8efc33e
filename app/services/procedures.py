"""Text of a cited procedure section, read from ``corpora/procedures/<doc_id>.md`` (docs/playbook.md).

``section_text(doc_id, section)`` returns the heading title and the section's Markdown (up to the
next heading of the same or a higher level), or ``None`` when the file or section is not there.
Sections are numbered headings (``## 3.``, ``### 3.2 ...``) or, when unnumbered, the heading text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tools.config import corpora_dir

_HEADING = re.compile(r"^(#{1,6})\s+(?:(\d+(?:\.\d+)*)\.?\s*)?(.*)$")
_DOC_ID = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


@dataclass(frozen=True)
class Section:
    doc_id: str
    section: str
    title: str
    text: str


@lru_cache(maxsize=256)
def _lines(path: Path, mtime: float) -> tuple[str, ...]:
    text = path.read_text(encoding="utf-8")
    if text.startswith("---"):
        end = text.find("\n---", 3)
        text = text[end + 4 :] if end != -1 else text
    return tuple(text.splitlines())


def section_text(doc_id: str, section: str, root: Path | None = None) -> Section | None:
    if not _DOC_ID.match(doc_id):
        return None
    path = (root or corpora_dir() / "procedures") / f"{doc_id}.md"
    if not path.is_file():
        return None
    lines = _lines(path, path.stat().st_mtime)
    wanted = section.strip().rstrip(".")
    start, level, title = None, 0, ""
    in_fence = False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            in_fence = not in_fence
        if in_fence:
            continue
        match = _HEADING.match(line)
        if not match:
            continue
        depth, number, heading = len(match.group(1)), match.group(2), match.group(3).strip()
        if start is not None and depth <= level:
            return Section(doc_id, section, title, "\n".join(lines[start:index]).strip())
        if start is None and (number == wanted or (not number and heading.lower() == wanted.lower())):
            start, level, title = index + 1, depth, heading or wanted
    if start is None:
        return None
    return Section(doc_id, section, title, "\n".join(lines[start:]).strip())
