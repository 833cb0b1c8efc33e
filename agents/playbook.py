"""The executor of procedure playbooks, exactly as docs/playbook.md specifies them.

Contract:
- The playbook itself is part of the one procedure model (:mod:`tools.procedures`): parsed and
  validated once with the procedure. :func:`extract_playbook` (the model's parser) reads the one
  fenced ```` ```playbook ```` block of Markdown held in memory; a bad block raises
  :class:`ExpressionError` naming the procedure and the reason.
- :func:`run_steps` runs the steps in order through a caller-supplied ``call`` function; a step whose
  ``when`` is false, or whose required arguments do not resolve, is skipped (its id stays ``None``).
- :func:`outcomes` evaluates the global policies' rules (:mod:`tools.procedures.policies`: a sanctions
  indication escalates whatever the procedure says), then the playbook's rules: the first true rule
  (or ``otherwise``) is the playbook's decision; every true rule is a candidate an LLM planner may
  choose among. The policy root of the scope comes from :func:`policy_scope`.
- A change's ``new`` comes from its ``value`` path; the executor never invents one. Whether the path
  is rooted in a tool result is recorded on the change (``trusted_path``) for the guard to judge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tools.procedures import Playbook, Policies, Rule, Step, default_policies
from tools.procedures.expressions import (
    Scope,
    evaluate,
    is_path,
    path_root,
    render,
    resolve_value,
    truthy,
)
from tools.procedures.parse import DATA_ROOTS
from tools.procedures.parse import parse_playbook_markdown as extract_playbook

__all__ = [
    "DATA_ROOTS",
    "Outcome",
    "Playbook",
    "Rule",
    "Step",
    "extract_playbook",
    "outcome",
    "outcomes",
    "policy_scope",
    "resolve_args",
    "run_steps",
]


def policy_scope(
    case: Mapping[str, Any], findings: Iterable[Mapping[str, Any]], policies: Policies | None = None
) -> dict[str, Any]:
    """The ``policy`` root of a case's scope (``policy.sanctions``, ``policy.ssi.min_name_score``)."""
    return (policies or default_policies()).scope(case, findings)


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
        return self.rule.key


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


def outcomes(playbook: Playbook, scope: Scope, policies: Policies | None = None) -> list[Outcome]:
    """Every rule whose ``when`` holds, in order, ending with ``otherwise`` (the first is the decision).

    The global policies' rules come first: they hold for every procedure. They read the scope's
    ``policy`` root (:func:`policy_scope`); a scope without one fires none of them.
    """
    fired = []
    for rule in (*(policies or default_policies()).rules(), *playbook.rules):
        if rule.otherwise or (rule.when is not None and truthy(evaluate(rule.when, scope))):
            fired.append(outcome(rule, scope, playbook.step_ids))
            if rule.otherwise:
                break
    return fired


def _stringify(value: Any) -> Any:
    if value is None or isinstance(value, str | list | dict | bool):
        return value
    return str(value)
