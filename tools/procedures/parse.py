"""Procedure Markdown into the typed model: front matter, sections, decision tables, the playbook.

Contract (docs/playbook.md, docs/retrieval.md):

- :func:`parse_procedure_text` reads one file held in memory into a :class:`Procedure`; a file that
  has no front matter, invalid YAML, no ``doc_id``, more than one ``playbook`` block, or a playbook the
  language does not allow raises :class:`tools.errors.ValidationError` (an
  :class:`~tools.procedures.expressions.ExpressionError` for the playbook) naming the file and why.
- :func:`parse_playbook` validates a decoded playbook block: tools from :mod:`tools.catalog`, actions
  from the contract, every condition vetted by :mod:`tools.procedures.expressions`, named four-eyes
  thresholds resolved through the global policies.
- A rule's ``row`` must exist in the procedure's decision table (the first table whose last header
  column is ``Action``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from tools.catalog import ACTIONS, TOOL_NAMES
from tools.errors import ValidationError
from tools.procedures.expressions import ExpressionError, compile_condition, is_path

# The model's names, as tools/procedures/__init__.py lists them too (imports, one per line).
from tools.procedures.model import (
    ChangeSpec,
    DecisionRow,
    DecisionTable,
    Playbook,
    Procedure,
    Rule,
    Section,
    Step,
)
from tools.procedures.policies import Policies

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(.*)$")
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w.+-]*)")
_ACTION = re.compile(r"`([a-z_]+)`")
# libyaml's loader when PyYAML has it: the same safe subset, several times faster on a cold corpus.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Roots of a playbook's scope that a step id may not shadow.
DATA_ROOTS = frozenset({"case", "payment", "remittance", "policy"})


def parse_procedure_text(raw: str, *, source: str, policies: Policies | None = None) -> Procedure:
    """Parse procedure Markdown held in memory; ``source`` names it in errors."""
    meta, body = _split_front_matter(raw, source)
    doc_id = meta.get("doc_id")
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise ValidationError("front matter has no doc_id", source=source)
    sections, playbook_texts = _parse_body(body)
    playbook = _one_playbook(playbook_texts, source, policies)
    title = str(meta.get("title") or next((s.heading for s in sections if s.level == 1), doc_id))
    kind = meta.get("kind", "procedure")
    if kind not in ("procedure", "reference"):
        raise ValidationError(f"kind must be 'procedure' or 'reference', not {kind!r}", source=source)
    procedure = Procedure(
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
    _check_rows(procedure, source)
    return procedure


def parse_playbook_markdown(markdown: str, source: str, policies: Policies | None = None) -> Playbook | None:
    """The playbook of procedure Markdown without front matter (``None`` when it has no block)."""
    return _one_playbook(_parse_body(markdown)[1], source, policies)


def _one_playbook(blocks: list[str], source: str, policies: Policies | None) -> Playbook | None:
    if len(blocks) > 1:
        raise ExpressionError(f"{len(blocks)} playbook blocks; at most one allowed", source=source)
    if not blocks:
        return None
    return parse_playbook(_load_playbook_yaml(blocks[0], source), source, policies)


def _check_rows(procedure: Procedure, source: str) -> None:
    if procedure.playbook is None:
        return
    section = procedure.decision_section
    for rule in procedure.playbook.rules:
        if rule.row is None:
            continue
        if section is None or section.decision_table is None:
            raise ExpressionError(
                f"rule {rule.index + 1} names row {rule.row}, but there is no decision table", source=source
            )
        if section.decision_table.row(rule.row) is None:
            raise ExpressionError(
                f"rule {rule.index + 1}: decision table {section.id} has no row {rule.row}", source=source
            )


def _split_front_matter(raw: str, source: str) -> tuple[dict[str, Any], str]:
    text = raw.lstrip("\ufeff")
    if not text.startswith("---"):
        raise ValidationError("missing YAML front matter (the file must start with ---)", source=source)
    lines = text.splitlines()
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise ValidationError("front matter is not closed by ---", source=source)
    try:
        meta = yaml.load("\n".join(lines[1:end]), Loader=_LOADER) or {}
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
    prose: list[str] = []  # the section's lines outside any fence: where its tables are
    fence: str | None = None
    fence_is_playbook = False
    block: list[str] = []

    def close() -> None:
        text = "\n".join(lines_out).strip()
        if current is not None:
            current.text = text
            current.decision_table = _decision_table(prose)
            sections.append(current)
        elif text:
            # Text before the first heading: kept as an untitled section so nothing is lost.
            sections.append(Section(id="preamble", heading="", level=0, text=text))

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
            prose.append(line)
            continue
        close()
        lines_out, prose = [], []
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


def _cells(line: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in line.strip().strip("|").split("|"))


def _decision_table(lines: list[str]) -> DecisionTable | None:
    """The first table of ``lines`` whose last header column is ``Action`` (``None`` when none is)."""
    index = 0
    while index < len(lines):
        if not lines[index].lstrip().startswith("|"):
            index += 1
            continue
        table = []
        while index < len(lines) and lines[index].lstrip().startswith("|"):
            table.append(lines[index].strip())
            index += 1
        header = _cells(table[0])
        if len(table) < 3 or header[-1].lower() != "action":
            continue
        rows = []
        for number, line in enumerate(table[2:], start=1):
            cells = _cells(line)
            named = [a for a in _ACTION.findall(cells[-1]) if a in ACTIONS]
            rows.append(
                DecisionRow(
                    number=number,
                    cells=cells,
                    evidence=cells[0],
                    action=named[0] if named else None,
                    markdown=line,
                )
            )
        return DecisionTable(header=header, rows=tuple(rows), markdown="\n".join(table))
    return None


def _load_playbook_yaml(text: str, source: str) -> Any:
    try:
        value = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ExpressionError(f"playbook block is not valid YAML: {exc}", source=source) from exc
    if not isinstance(value, dict):
        raise ExpressionError("playbook block must be a YAML mapping", source=source)
    return value


def parse_playbook(data: Any, source: str, policies: Policies | None = None) -> Playbook:
    """Validate a decoded playbook block; raises :class:`ExpressionError` naming ``source``."""
    if not isinstance(data, Mapping):
        raise ExpressionError("playbook block is not a mapping", source=source)
    steps = tuple(_parse_step(raw, i, source) for i, raw in enumerate(data.get("steps") or []))
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids):
        raise ExpressionError(f"duplicate step ids in {ids}", source=source)
    clash = DATA_ROOTS.intersection(ids)
    if clash:
        raise ExpressionError(f"step ids {sorted(clash)} shadow data roots", source=source)
    rules = tuple(_parse_rule(raw, i, source, policies) for i, raw in enumerate(data.get("rules") or []))
    if not rules or not rules[-1].otherwise:
        raise ExpressionError("the last rule must be `otherwise: true`", source=source)
    return Playbook(version=int(data.get("version", 1)), steps=steps, rules=rules, source=source)


def _parse_step(raw: Any, index: int, source: str) -> Step:
    if not isinstance(raw, Mapping) or not raw.get("id") or not raw.get("tool"):
        raise ExpressionError(f"step {index + 1} needs `id` and `tool`", source=source)
    tool = str(raw["tool"])
    if tool not in TOOL_NAMES:
        raise ExpressionError(f"step {raw['id']!r} names unknown tool {tool!r}", source=source)
    args = raw.get("args") or {}
    if not isinstance(args, Mapping):
        raise ExpressionError(f"step {raw['id']!r}: `args` must be a mapping", source=source)
    when = raw.get("when")
    if when is not None:
        compile_condition(str(when))
    return Step(id=str(raw["id"]), tool=tool, args=dict(args), when=None if when is None else str(when))


def _parse_rule(raw: Any, index: int, source: str, policies: Policies | None) -> Rule:
    if not isinstance(raw, Mapping):
        raise ExpressionError(f"rule {index + 1} is not a mapping", source=source)
    action = str(raw.get("action", ""))
    if action not in ACTIONS:
        raise ExpressionError(f"rule {index + 1}: action {action!r} is not one of {ACTIONS}", source=source)
    otherwise = bool(raw.get("otherwise", False))
    when = raw.get("when")
    if when is None and not otherwise:
        raise ExpressionError(f"rule {index + 1} needs `when` or `otherwise: true`", source=source)
    if when is not None:
        compile_condition(str(when))
    changes = []
    for change in raw.get("changes") or []:
        if not isinstance(change, Mapping) or not change.get("field") or "value" not in change:
            raise ExpressionError(f"rule {index + 1}: a change needs `field` and `value`", source=source)
        value = change["value"]
        if isinstance(value, str) and not value.startswith("=") and not is_path(value):
            raise ExpressionError(f"rule {index + 1}: value {value!r} is not a path", source=source)
        evidence = change.get("evidence")
        changes.append(
            ChangeSpec(
                field=str(change["field"]), value=value, evidence=None if evidence is None else str(evidence)
            )
        )
    four_eyes_name = raw.get("four_eyes")
    try:
        threshold = raw.get("four_eyes_above")
        four_eyes = None if threshold is None else Decimal(str(threshold))
        confidence = None if raw.get("confidence") is None else float(raw["confidence"])
        row = None if raw.get("row") is None else int(raw["row"])
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ExpressionError(f"rule {index + 1}: bad number: {exc}", source=source) from exc
    if four_eyes_name is not None:
        if four_eyes is not None:
            raise ExpressionError(
                f"rule {index + 1}: give `four_eyes` (a policy threshold) or `four_eyes_above`, not both",
                source=source,
            )
        four_eyes = _named_threshold(str(four_eyes_name), index, source, policies)
    return Rule(
        index=index,
        action=action,
        when=None if when is None else str(when),
        otherwise=otherwise,
        changes=tuple(changes),
        rationale=str(raw.get("rationale", "")),
        four_eyes=None if four_eyes_name is None else str(four_eyes_name),
        four_eyes_above=four_eyes,
        confidence=confidence,
        row=row,
    )


def _named_threshold(name: str, index: int, source: str, policies: Policies | None) -> Decimal:
    if policies is None:
        from tools.procedures.policies import default_policies

        policies = default_policies()
    try:
        return policies.four_eyes.threshold(name)
    except KeyError:
        known = sorted(policies.four_eyes.thresholds)
        raise ExpressionError(
            f"rule {index + 1}: four_eyes {name!r} is not a threshold of the four-eyes policy {known}",
            source=source,
        ) from None


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
