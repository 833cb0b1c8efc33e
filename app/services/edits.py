"""An analyst's edit: re-validated and re-guarded before it becomes a proposal version.

:func:`validate_changes` refuses (``ValidationError`` -> 422 naming ``changes[i].<field>`` and the
reason, nothing stored) a change to a field the canonical payment does not have, an IBAN or BIC that
fails its checksum or format (schwifty), a currency that is not ISO 4217, or an empty value. The
list fields an analyst edits line by line (a party's ``address_lines``, the unstructured remittance
lines) take a list of lines, each checked against the rules of the message the repair is written in
(:data:`LINE_RULES`): MT lines hold at most 35 characters of the SWIFT X set and do not start with
``:`` or ``-``, pacs.008 address lines at most 70 and remittance lines 140; control characters are
never accepted, and an empty list is refused like an empty value.

:func:`guard_edit` is the guard's verdict on the edit itself, never the agent's: each change either
cites results of trusted tools of this case's run in which its value literally appears (the agent
guard's own rule, through the runner's ``check_edit`` when it has one), or is ``analyst-asserted``
(evidence ``["analyst-asserted"]``), which passes but needs a second approver; a descriptive field
changed with no evidence at all passes as the analyst's word (one approver), a money-moving field
(account, IBAN, BIC, agent, amount, currency) does not. Anything cited that is not a trusted result
of this case (a forged id) is a violation: the edit is stored with ``guard.passed`` false and cannot
be approved.
"""

from __future__ import annotations

import re
import types
import typing
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from agents.contract import Change, EditedChange, Guard, Proposal, Violation
from tools.errors import RepairDeskError, ValidationError
from tools.messages.currencies import is_currency

ANALYST_ASSERTED = "analyst-asserted"
_MONEY_MOVING = re.compile(r"(iban|bic|account|_agent|amount|currency|exchange_rate|clearing_id)")


@lru_cache(maxsize=1)
def _payment_leaves() -> tuple[frozenset[str], frozenset[str]]:
    """(scalar leaves, list-of-text leaves) of the canonical payment, as contract paths."""
    from tools.messages.model import Payment

    scalars: set[str] = set()
    lines: set[str] = set()

    def walk(model: type[BaseModel], prefix: str, depth: int) -> None:
        for name, info in model.model_fields.items():
            path = f"{prefix}.{name}"
            annotation = info.annotation
            if typing.get_origin(annotation) in (typing.Union, types.UnionType):
                args = [a for a in typing.get_args(annotation) if a is not type(None)]
                annotation = args[0] if len(args) == 1 else annotation
            if typing.get_origin(annotation) is list or annotation is list:
                if typing.get_args(annotation) == (str,) and _line_kind(path) is not None:
                    lines.add(path)  # address and remittance lines; other lists are not edited
                continue
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                if depth < 4:
                    walk(annotation, path, depth + 1)
            else:
                scalars.add(path)

    walk(Payment, "payment", 0)
    return frozenset(scalars), frozenset(lines)


def known_fields() -> frozenset[str]:
    """Every scalar leaf of the canonical payment (``payment.creditor.account.iban``, ...)."""
    return _payment_leaves()[0]


def line_fields() -> frozenset[str]:
    """The list fields edited line by line: every party's and agent's ``address_lines`` and
    ``payment.remittance_information.unstructured``."""
    return _payment_leaves()[1]


@dataclass(frozen=True)
class LineRule:
    max_length: int
    max_lines: int | None  # None: the format sets no count
    name: str  # what the lines are in that format, for the message


# (message format, kind of lines) -> rule. FIN: a party field (50K/59) is 4 lines of 35 characters,
# the name taking the first; 70 (remittance) is 4 x 35. pacs.008: AdrLine is Max70Text, at most 7;
# Ustrd is Max140Text.
LINE_RULES: dict[tuple[str, str], LineRule] = {
    ("fin", "address"): LineRule(35, 3, "an MT party field's address (after the name)"),
    ("fin", "remittance"): LineRule(35, 4, "MT field 70"),
    ("xml", "address"): LineRule(70, 7, "a pacs.008 postal address (AdrLine)"),
    ("xml", "remittance"): LineRule(140, None, "pacs.008 unstructured remittance (Ustrd)"),
}
_SWIFT_X = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")
_X_NAMED = "letters, digits, space and / - ? : ( ) . , ' +"


def _line_kind(field: str) -> str | None:
    if field.endswith(".address_lines"):
        return "address"
    if field == "payment.remittance_information.unstructured":
        return "remittance"
    return None


def message_format(case_payload: dict[str, Any] | None) -> str:
    """``xml`` when the repair is written as pacs.008 (XML input, or a ``pacs.*`` payment), else ``fin``:
    the format whose line rules an edit must meet (the one :mod:`agents.repair` writes)."""
    payload = case_payload or {}
    message = payload.get("message")
    if isinstance(message, str) and message.strip():
        return "xml" if message.lstrip().startswith("<") else "fin"
    payment = payload.get("payment")
    kind = str(payment.get("message_type", "")) if isinstance(payment, dict) else ""
    return "xml" if kind.startswith("pacs") else "fin"


def line_problem(field: str, lines: Any, fmt: str) -> str | None:
    """Why ``lines`` cannot be the new value of the list field ``field`` in format ``fmt`` (or None)."""
    kind = _line_kind(field) or "remittance"
    rule = LINE_RULES[("xml" if fmt == "xml" else "fin", kind)]
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        return "a list of text lines is expected"
    if not lines:
        return "at least one line is needed"
    if rule.max_lines is not None and len(lines) > rule.max_lines:
        return f"{len(lines)} lines; {rule.name} allows {rule.max_lines}"
    for number, line in enumerate(lines, 1):
        where = f"line {number}"
        if not line.strip():
            return f"{where} is empty"
        control = next((c for c in line if unicodedata.category(c)[0] == "C"), None)
        if control is not None:
            return f"{where} holds a control character (U+{ord(control):04X})"
        if len(line) > rule.max_length:
            return f"{where} has {len(line)} characters; {rule.name} allows {rule.max_length} a line"
        if fmt != "xml":
            if not _SWIFT_X.fullmatch(line):
                bad = next(c for c in line if not _SWIFT_X.fullmatch(c))
                return f"{where}: {bad!r} is not in the SWIFT X character set ({_X_NAMED})"
            if line[0] in ":-":
                return f"{where} starts with {line[0]!r}, which ends the field in an MT message"
    return None


def is_money_moving(field: str) -> bool:
    return bool(_MONEY_MOVING.search(field.rpartition(".")[2]) or "_agent." in field)


def _problem(field: str, value: str) -> str | None:
    leaf = field.rpartition(".")[2]
    compact = value.replace(" ", "").upper()
    if leaf == "iban":
        from schwifty import IBAN
        from schwifty.exceptions import SchwiftyException

        try:
            IBAN(compact)
        except SchwiftyException as exc:
            return f"{value!r} is not a valid IBAN: {exc}"
    elif leaf == "bic" or leaf.endswith("_bic"):
        from schwifty import BIC
        from schwifty.exceptions import SchwiftyException

        try:
            BIC(compact)
        except SchwiftyException as exc:
            return f"{value!r} is not a valid BIC: {exc}"
    elif leaf.endswith("currency") and not is_currency(compact):
        return f"{value!r} is not an ISO 4217 currency code"
    return None


def validate_changes(changes: list[dict[str, Any]], fmt: str = "fin") -> None:
    """See the module docstring; raises on the first bad change. ``fmt`` (:func:`message_format`)
    chooses the line rules of list fields."""
    seen: set[str] = set()
    for index, change in enumerate(changes):
        field = str(change.get("field") or "")
        source = f"changes[{index}].{field or 'field'}"
        if field not in known_fields() and field not in line_fields():
            raise ValidationError(f"{field!r} is not a field of the payment", source=source)
        if field in seen:
            raise ValidationError(f"{field} is changed twice", source=source)
        seen.add(field)
        new = change.get("new")
        if field in line_fields():
            problem = line_problem(field, new, fmt)
        elif not isinstance(new, str) or not new.strip():
            problem = "the new value is empty"
        else:
            problem = _problem(field, new)
        if problem is not None:
            raise ValidationError(problem, source=source)


def guard_edit(
    changes: list[EditedChange], agent_proposal: Proposal | None, runner: Any, thread_id: str
) -> Guard:
    """The edit's own guard verdict (``checked="edit"``, with the fields asserted by the analyst)."""
    violations: list[Violation] = []
    asserted: list[str] = []
    to_check: list[Change] = []
    for change in changes:
        field = change.field
        if ANALYST_ASSERTED in change.evidence:
            if len(change.evidence) > 1:
                violations.append(
                    Violation(
                        code="mixed_evidence", message=f"{field}: analyst-asserted stands alone", field=field
                    )
                )
            asserted.append(field)
        elif not change.evidence:
            if is_money_moving(field):
                message = (
                    f"{field} moves money: cite a trusted result of this case or mark it analyst-asserted"
                )
                violations.append(Violation(code="unsourced_money_field", message=message, field=field))
        else:
            to_check.append(Change.model_validate(change.model_dump()))
    if to_check:
        check = getattr(runner, "check_edit", None)
        if callable(check):
            try:
                violations.extend(check(thread_id, to_check))
            except RepairDeskError as exc:  # no agent state to check against: nothing is trusted
                message = f"the cited evidence cannot be checked: {exc.reason}"
                violations.append(Violation(code="untrusted_source", message=message, field="changes"))
        else:  # a backend without the agent's state: evidence must at least be refs of its own tool calls
            refs = {str(t.result_ref) for t in (agent_proposal.tool_calls if agent_proposal else [])}
            for checked in to_check:
                unknown = [e for e in checked.evidence if e not in refs]
                if unknown:
                    field = checked.field
                    message = f"{field}: {unknown[0]!r} is not a tool result of this case"
                    violations.append(Violation(code="untrusted_source", message=message, field=field))
    return Guard(
        passed=not violations,
        violations=violations,
        checked="edit",
        analyst_asserted=asserted,
        second_approver_required=bool(asserted),
    )
