"""The typed procedure model: what a procedure file means, parsed once (see :mod:`tools.procedures.parse`).

Retrieval indexes :attr:`Procedure.sections`, the agent executes :attr:`Procedure.playbook` and the UI
shows the section and decision-table row a proposal cites. All three read these objects; none of
them parses Markdown or YAML itself.

A section's ``id`` is its number ("3.2", no trailing dot) or, when its heading has no number, the
heading text. That id is the ``section`` of a retrieval hit and of a citation; a citation of the rule
applied adds the 1-based ``row`` of the section's decision table.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["procedure", "reference"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class DecisionRow(_Frozen):
    """One row of a decision table: the evidence that must hold and the action the procedure takes."""

    number: int = Field(description="1-based position in the table (the header does not count)")
    cells: tuple[str, ...]
    evidence: str = Field(description="the first cell")
    action: str | None = Field(
        default=None, description="the contract action named in backticks in the last cell"
    )
    markdown: str = Field(description="the row as written, for rendering")


class DecisionTable(_Frozen):
    """A Markdown table whose last header column is ``Action``: how the procedure decides."""

    header: tuple[str, ...]
    rows: tuple[DecisionRow, ...]
    markdown: str = Field(description="the whole table as written (header, rule and rows)")

    def row(self, number: int) -> DecisionRow | None:
        return next((r for r in self.rows if r.number == number), None)


class Section(BaseModel):
    """One heading and the text directly under it (up to the next heading of any level)."""

    id: str = Field(description="the section number ('3.2') or, without a number, the heading text")
    number: str | None = None
    heading: str = Field(description="heading text without its number")
    level: int
    path: list[str] = Field(default_factory=list, description="headings from the top, this one last")
    text: str = Field(default="", description="body text; the playbook block is left out")
    decision_table: DecisionTable | None = None


class Step(_Frozen):
    """A playbook step: run ``tool`` with ``args`` (paths or ``=literals``), bind the result to ``id``."""

    id: str
    tool: str
    args: dict[str, Any]
    when: str | None = None


class ChangeSpec(_Frozen):
    """A change a rule proposes: ``value`` and ``evidence`` are paths into tool results."""

    field: str
    value: Any
    evidence: str | None = None


class Rule(_Frozen):
    """A playbook rule (or a global policy's rule, ``policy`` set): when it holds, propose ``action``.

    ``four_eyes`` names a threshold of the global four-eyes policy; ``four_eyes_above`` is the amount
    it resolved to (or a literal one). ``row`` is the decision-table row of the procedure that states
    the rule in prose: what a proposal made by this rule cites.
    """

    index: int
    action: str
    when: str | None = None
    otherwise: bool = False
    changes: tuple[ChangeSpec, ...] = ()
    rationale: str = ""
    four_eyes: str | None = None
    four_eyes_above: Decimal | None = None
    confidence: float | None = None
    row: int | None = None
    policy: str | None = None

    @property
    def key(self) -> str:
        return f"policy:{self.policy}" if self.policy else f"rule{self.index + 1}"


class Playbook(_Frozen):
    """A procedure's machine-readable steps and rules (docs/playbook.md)."""

    version: int = 1
    steps: tuple[Step, ...]
    rules: tuple[Rule, ...]
    source: str = ""

    @property
    def step_ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.steps)


class Citation(_Frozen):
    """What a proposal cites: a procedure section and, for the rule applied, its decision-table row."""

    doc_id: str
    section: str
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


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
    playbook: Playbook | None = None
    path: str = ""
    front_matter: dict[str, Any] = Field(default_factory=dict)

    def section(self, section_id: str) -> Section | None:
        """The section whose id is ``section_id`` (a trailing dot and case of a heading are ignored)."""
        wanted = section_id.strip().rstrip(".")
        found = next((s for s in self.sections if s.id == wanted), None)
        if found is None:
            found = next((s for s in self.sections if s.id.lower() == wanted.lower()), None)
        return found

    def section_markdown(self, section_id: str) -> str | None:
        """The section's Markdown with its subsections (up to the next heading of its level or higher)."""
        found = self.section(section_id)
        if found is None:
            return None
        start = self.sections.index(found)
        parts = [found.text]
        for child in self.sections[start + 1 :]:
            if child.level <= found.level:
                break
            label = f"{child.number} {child.heading}" if child.number else child.heading
            parts.append(f"{'#' * child.level} {label}\n{child.text}")
        return "\n\n".join(p for p in parts if p).strip()

    @property
    def decision_section(self) -> Section | None:
        """The section holding the decision table the playbook's rules point at (the first one)."""
        return next((s for s in self.sections if s.decision_table is not None), None)

    def citation_for(self, rule: Rule, policy_citation: Citation | None = None) -> Citation | None:
        """The decision-table row that states ``rule``: its ``row``, or for a global policy's rule the
        row that names the policy ("policy `sanctions`"), else ``policy_citation`` (the policy's own
        reference). ``None`` when the rule names no row."""
        section = self.decision_section
        table = section.decision_table if section is not None else None
        if rule.policy:
            marker = f"policy `{rule.policy}`"
            row = next((r for r in table.rows if marker in r.markdown), None) if table else None
            if section is not None and row is not None:
                return Citation(doc_id=self.doc_id, section=section.id, row=row.number)
            return policy_citation
        if rule.row is None or section is None:
            return None
        return Citation(doc_id=self.doc_id, section=section.id, row=rule.row)
