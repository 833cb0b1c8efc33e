"""The executor of procedure playbook blocks, exactly as docs/playbook.md specifies them.

Contract:
- :func:`extract_playbook` finds the one fenced ```` ```playbook ```` block of a procedure's Markdown
  and :meth:`Playbook.parse` validates it (tools from :mod:`tools.catalog`, actions from the contract,
  every condition vetted by :mod:`agents.expressions`); a bad block raises :class:`ExpressionError`
  naming the procedure and the reason.
- :func:`run_steps` runs the steps in order through a caller-supplied ``call`` function; a step whose
  ``when`` is false, or whose required arguments do not resolve, is skipped (its id stays ``None``).
- :func:`outcomes` evaluates the rules: the first true rule (or ``otherwise``) is the playbook's
  decision; every true rule is a candidate an LLM planner may choose among.
- A change's ``new`` comes from its ``value`` path; the executor never invents one. Whether the path
  is rooted in a tool result is recorded on the change (``trusted_path``) for the guard to judge.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from agents.expressions import (
    ExpressionError,
    Scope,
    compile_condition,
    evaluate,
    is_path,
    path_root,
    render,
    resolve_value,
    truthy,
)
from tools.catalog import ACTIONS, TOOL_NAMES

_BLOCK = re.compile(r"^```playbook[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
DATA_ROOTS = frozenset({"case", "payment", "remittance"})


@dataclass(frozen=True)
class Step:
    id: str
    tool: str
    args: dict[str, Any]
    when: str | None = None


@dataclass(frozen=True)
class ChangeSpec:
    field: str
    value: Any
    evidence: str | None = None


@dataclass(frozen=True)
class Rule:
    index: int
    action: str
    when: str | None = None
    otherwise: bool = False
    changes: tuple[ChangeSpec, ...] = ()
    rationale: str = ""
    four_eyes_above: Decimal | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Playbook:
    version: int
    steps: tuple[Step, ...]
    rules: tuple[Rule, ...]
    source: str = ""

    @classmethod
    def parse(cls, data: Any, source: str) -> Playbook:
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
        rules = tuple(_parse_rule(raw, i, source) for i, raw in enumerate(data.get("rules") or []))
        if not rules or not rules[-1].otherwise:
            raise ExpressionError("the last rule must be `otherwise: true`", source=source)
        return cls(version=int(data.get("version", 1)), steps=steps, rules=rules, source=source)

    @property
    def step_ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.steps)


def extract_playbook(markdown: str, source: str) -> Playbook | None:
    """The procedure's playbook, or ``None`` when it has no block; more than one block is an error."""
    blocks = _BLOCK.findall(markdown)
    if not blocks:
        return None
    if len(blocks) > 1:
        raise ExpressionError(f"{len(blocks)} playbook blocks; at most one is allowed", source=source)
    try:
        data = yaml.safe_load(blocks[0])
    except yaml.YAMLError as exc:
        raise ExpressionError(f"playbook block is not valid YAML: {exc}", source=source) from exc
    return Playbook.parse(data, source)


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


def _parse_rule(raw: Any, index: int, source: str) -> Rule:
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
        changes.append(ChangeSpec(str(change["field"]), value, None if evidence is None else str(evidence)))
    try:
        threshold = raw.get("four_eyes_above")
        four_eyes = None if threshold is None else Decimal(str(threshold))
        confidence = None if raw.get("confidence") is None else float(raw["confidence"])
    except (InvalidOperation, ValueError) as exc:
        raise ExpressionError(f"rule {index + 1}: bad number: {exc}", source=source) from exc
    return Rule(
        index=index,
        action=action,
        when=None if when is None else str(when),
        otherwise=otherwise,
        changes=tuple(changes),
        rationale=str(raw.get("rationale", "")),
        four_eyes_above=four_eyes,
        confidence=confidence,
    )


# --- execution ----------------------------------------------------------------------------------

ToolCaller = Callable[[Step, dict[str, Any]], dict[str, Any] | None]
"""Runs one step's tool with resolved arguments; returns its result dict (``None`` when it failed)."""


def resolve_args(step: Step, scope: Scope, required: frozenset[str]) -> dict[str, Any] | None:
    """The step's arguments with absent values dropped, or ``None`` when a required one is missing."""
    args = {}
    for name, spec in step.args.items():
        value = resolve_value(spec, scope)
        if value is None or value == "" or value == []:
            continue
        args[name] = value
    if not required.issubset(args):
        return None
    return args


def run_steps(
    playbook: Playbook,
    scope: Scope,
    call: ToolCaller,
    required_args: Callable[[str], frozenset[str]],
    skip: Callable[[Step], bool] = lambda _step: False,
) -> None:
    """Run each step in order, binding its result to its id in ``scope``.

    ``skip`` lets a caller keep a result it already has (a model's matching tool call).
    """
    for step in playbook.steps:
        if skip(step):
            continue
        if step.when is not None and not truthy(evaluate(step.when, scope)):
            continue
        args = resolve_args(step, scope, required_args(step.tool))
        if args is None:
            continue
        result = call(step, args)
        if result is not None:
            scope.set(step.id, result)


@dataclass
class Outcome:
    """A rule that fired, with its changes resolved against the evidence."""

    rule: Rule
    action: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    rationale: str = ""
    confidence: float = 0.9
    four_eyes_above: Decimal | None = None

    @property
    def key(self) -> str:
        return f"rule{self.rule.index + 1}"


def outcome(rule: Rule, scope: Scope, step_ids: frozenset[str]) -> Outcome:
    """Resolve a rule's changes, rationale and confidence in ``scope``."""
    changes = []
    for spec in rule.changes:
        new = resolve_value(spec.value, scope)
        evidence = resolve_value(spec.evidence, scope) if spec.evidence else None
        refs = (
            [str(e) for e in evidence]
            if isinstance(evidence, list)
            else ([str(evidence)] if evidence else [])
        )
        changes.append(
            {
                "field": spec.field,
                "old": _stringify(scope.resolve(spec.field)),
                "new": _stringify(new),
                "evidence": refs,
                # Only a path rooted in a step's result may carry a new value (docs/playbook.md).
                "trusted_path": isinstance(spec.value, str)
                and is_path(spec.value)
                and path_root(spec.value) in step_ids,
            }
        )
    default_confidence = {"repair": 0.9, "no_action": 0.85, "return": 0.85}.get(rule.action, 0.7)
    return Outcome(
        rule=rule,
        action=rule.action,
        changes=changes,
        rationale=render(rule.rationale, scope).strip(),
        confidence=rule.confidence if rule.confidence is not None else default_confidence,
        four_eyes_above=rule.four_eyes_above,
    )


def outcomes(playbook: Playbook, scope: Scope) -> list[Outcome]:
    """Every rule whose ``when`` holds, in order, ending with ``otherwise`` (the first is the decision)."""
    fired = []
    for rule in playbook.rules:
        if rule.otherwise or (rule.when is not None and truthy(evaluate(rule.when, scope))):
            fired.append(outcome(rule, scope, playbook.step_ids))
            if rule.otherwise:
                break
    return fired


def _stringify(value: Any) -> Any:
    if value is None or isinstance(value, str | list | dict | bool):
        return value
    return str(value)
