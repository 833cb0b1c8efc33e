"""An analyst's edit: re-validated and re-guarded before it becomes a proposal version.

:func:`validate_changes` refuses (``ValidationError`` -> 422 naming ``changes[i].<field>`` and the
reason, nothing stored) a change to a field the canonical payment does not have, an IBAN or BIC that
fails its checksum or format (schwifty), a currency that is not ISO 4217, or an empty value.

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
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from tools.errors import RepairDeskError, ValidationError
from tools.messages.currencies import is_currency

ANALYST_ASSERTED = "analyst-asserted"
_MONEY_MOVING = re.compile(r"(iban|bic|account|_agent|amount|currency|exchange_rate|clearing_id)")


@lru_cache(maxsize=1)
def known_fields() -> frozenset[str]:
    """Every scalar leaf of the canonical payment (``payment.creditor.account.iban``, ...)."""
    from tools.messages.model import Payment

    fields: set[str] = set()

    def walk(model: type[BaseModel], prefix: str, depth: int) -> None:
        for name, info in model.model_fields.items():
            path = f"{prefix}.{name}"
            annotation = info.annotation
            if typing.get_origin(annotation) in (typing.Union, types.UnionType):
                args = [a for a in typing.get_args(annotation) if a is not type(None)]
                annotation = args[0] if len(args) == 1 else annotation
            if typing.get_origin(annotation) is list or annotation is list:
                continue  # lists (address lines, charges) are not edited field by field
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                if depth < 4:
                    walk(annotation, path, depth + 1)
            else:
                fields.add(path)

    walk(Payment, "payment", 0)
    return frozenset(fields)


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


def validate_changes(changes: list[dict[str, Any]]) -> None:
    """See the module docstring; raises on the first bad change."""
    seen: set[str] = set()
    for index, change in enumerate(changes):
        field = str(change.get("field") or "")
        source = f"changes[{index}].{field or 'field'}"
        if field not in known_fields():
            raise ValidationError(f"{field!r} is not a field of the payment", source=source)
        if field in seen:
            raise ValidationError(f"{field} is changed twice", source=source)
        seen.add(field)
        new = change.get("new")
        if not isinstance(new, str) or not new.strip():
            raise ValidationError("the new value is empty", source=source)
        problem = _problem(field, new)
        if problem is not None:
            raise ValidationError(problem, source=source)


def guard_edit(
    changes: list[dict[str, Any]], agent_proposal: dict[str, Any] | None, runner: Any, thread_id: str
) -> dict[str, Any]:
    """The edit's own guard verdict: ``{"passed", "violations", "checked": "edit", "analyst_asserted"}``."""
    violations: list[dict[str, str]] = []
    asserted: list[str] = []
    to_check: list[dict[str, Any]] = []
    for change in changes:
        field = str(change["field"])
        evidence = [str(e) for e in change.get("evidence") or []]
        if ANALYST_ASSERTED in evidence:
            if len(evidence) > 1:
                violations.append(
                    {
                        "code": "mixed_evidence",
                        "message": f"{field}: analyst-asserted stands alone",
                        "field": field,
                    }
                )
            asserted.append(field)
        elif not evidence:
            if is_money_moving(field):
                message = (
                    f"{field} moves money: cite a trusted result of this case or mark it analyst-asserted"
                )
                violations.append({"code": "unsourced_money_field", "message": message, "field": field})
        else:
            to_check.append(change)
    if to_check:
        check = getattr(runner, "check_edit", None)
        if callable(check):
            try:
                violations.extend(check(thread_id, to_check))
            except RepairDeskError as exc:  # no agent state to check against: nothing is trusted
                message = f"the cited evidence cannot be checked: {exc.reason}"
                violations.append({"code": "untrusted_source", "message": message, "field": "changes"})
        else:  # a backend without the agent's state: evidence must at least be refs of its own tool calls
            refs = {str(t.get("result_ref")) for t in (agent_proposal or {}).get("tool_calls") or []}
            for change in to_check:
                unknown = [e for e in change["evidence"] if e not in refs]
                if unknown:
                    message = f"{change['field']}: {unknown[0]!r} is not a tool result of this case"
                    violations.append(
                        {"code": "untrusted_source", "message": message, "field": change["field"]}
                    )
    return {
        "passed": not violations,
        "violations": violations,
        "checked": "edit",
        "analyst_asserted": asserted,
        "second_approver_required": bool(asserted),
    }
