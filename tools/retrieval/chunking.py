"""Section-aware chunking of procedures.

Contract: :func:`chunk_procedure` turns a :class:`Procedure` into :class:`Chunk` objects, one per
section with text (a heading with no body of its own yields none), split further at paragraph or
list-item boundaries when a section is longer than ``MAX_WORDS`` words (a numbered step is never cut
in two). Every chunk carries the document's metadata (``doc_id``, ``title``, ``exception_codes``,
``message_types``, ``rails``, ``kind``), its ``section`` id, heading path and the step numbers it
contains. ``chunk_id`` is unique and stable: ``<doc_id>#<section>#<part>``.

``CHUNKER_VERSION`` goes into the index manifest; bump it whenever the output of this module changes,
so that ``index build`` re-embeds everything.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, Field

from tools.retrieval.procedures import Procedure, Section
from tools.retrieval.tokenize import normalise_message_type

CHUNKER_VERSION = "sections-v1"
MAX_WORDS = 180  # all-MiniLM-L6-v2 reads 256 word pieces; longer text would be cut off unseen.

_STEP = re.compile(r"^\s{0,3}(\d+)[.)]\s")
_ITEM = re.compile(r"^\s{0,3}(?:\d+[.)]|[-*+])\s")


class Chunk(BaseModel):
    """A retrievable unit with everything a hit and a filter need."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    heading: str
    heading_path: list[str] = Field(default_factory=list)
    steps: list[int] = Field(default_factory=list, description="numbered steps in this chunk")
    part: int = 0
    text: str
    exception_codes: list[str] = Field(default_factory=list)
    message_types: list[str] = Field(default_factory=list, description="normalised: mt103, pacs.008")
    rails: list[str] = Field(default_factory=list)
    kind: str = "procedure"
    source: str = ""

    def embedding_text(self) -> str:
        """What the dense model reads: title and parent headings give a short chunk its context.

        ``text`` already starts with the chunk's own heading; the document's H1 usually repeats the title.
        """
        parents = " > ".join(h for h in self.heading_path[1:-1] if h)
        return "\n".join(part for part in (self.title, parents, self.text) if part)

    def lexical_text(self) -> str:
        """What BM25 reads: the same, plus the codes and message types of the front matter."""
        return " ".join(
            [
                self.embedding_text(),
                self.heading,
                " ".join(self.exception_codes),
                " ".join(self.message_types),
            ]
        )

    def content_hash(self) -> str:
        """Identifies the embedded content: unchanged hash, reusable embedding."""
        return hashlib.sha256(self.embedding_text().encode("utf-8")).hexdigest()


def chunk_procedure(procedure: Procedure, *, max_words: int = MAX_WORDS) -> list[Chunk]:
    """The chunks of one procedure (see the module docstring)."""
    chunks: list[Chunk] = []
    message_types = [normalise_message_type(m) for m in procedure.message_types]
    for section in procedure.sections:
        if not section.text.strip():
            continue
        for part, text in enumerate(_split(section.text, max_words)):
            chunks.append(
                Chunk(
                    chunk_id=f"{procedure.doc_id}#{section.id}#{part}",
                    doc_id=procedure.doc_id,
                    title=procedure.title,
                    section=section.id,
                    heading=section.heading,
                    heading_path=section.path,
                    steps=[int(m.group(1)) for m in map(_STEP.match, text.splitlines()) if m],
                    part=part,
                    text=_with_heading(section, text),
                    exception_codes=_codes_for(procedure, section),
                    message_types=message_types,
                    rails=list(procedure.rails),
                    kind=procedure.kind,
                    source=procedure.path,
                )
            )
    return chunks


def _codes_for(procedure: Procedure, section: Section) -> list[str]:
    # A reference document covers hundreds of codes: each of its sections is about one code only.
    if procedure.kind == "reference":
        return [section.id] if section.number is None and section.level >= 2 else []
    return [c.upper() for c in procedure.exception_codes]


def _with_heading(section: Section, text: str) -> str:
    if not section.heading:
        return text
    label = f"{section.number} {section.heading}" if section.number else section.heading
    return f"{label}\n{text}"


def _split(text: str, max_words: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``max_words`` words at block boundaries.

    Blocks are paragraphs and list items (with their continuation lines); a single block longer than
    the limit stays whole rather than being cut mid-sentence.
    """
    if len(text.split()) <= max_words:
        return [text]
    blocks: list[list[str]] = []
    for line in text.splitlines():
        starts_block = not blocks or not line.strip() or _ITEM.match(line) or not blocks[-1]
        if starts_block:
            blocks.append([])
        if line.strip():
            blocks[-1].append(line)
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for block in (b for b in blocks if b):
        words = sum(len(line.split()) for line in block)
        if current and count + words > max_words:
            pieces.append("\n".join(current))
            current, count = [], 0
        current.extend(block)
        count += words
    if current:
        pieces.append("\n".join(current))
    return pieces
