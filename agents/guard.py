"""The guard: the last check between any planner (playbook or LLM) and the analyst.

Contract: :func:`check` lists the violations of a :class:`agents.contract.Proposal` against the
evidence trail (:class:`agents.contract.Evidence` by ref); :func:`enforce` returns the proposal with
``guard`` filled in and, when anything is violated, downgraded to ``escalate`` with its changes moved
to ``rejected_changes`` (kept for the analyst to see, never applied). Rules:

- every ``new`` value comes from a result of a trusted tool (:data:`tools.catalog.TRUSTED_SOURCES`)
  that the proposal cites as evidence, and literally appears in that result (``validate_iban`` may
  only supply the BIC it derived); document and note text are never a source;
- no change touches the amount or the currency (global policy ``money_fields``);
- a beneficiary account is only repaired from a matching SSI (found, same IBAN, name score at or
  above the global policy ``ssi.min_name_score``);
- a sanctions case is only ever escalated (global policy ``sanctions``);
- an amount above the approval threshold is flagged for four-eyes approval (global policy
  ``four_eyes``). The threshold a proposal claims is capped at the policy's highest threshold: the
  planner chose it, so the guard does not take it on trust.

The policies are defined once, in ``corpora/policies.yaml`` (:mod:`tools.procedures.policies`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from agents.contract import Change, Evidence, Guard, Proposal, Violation
from tools import config
from tools.catalog import ACTIONS, TRUSTED_SOURCES
from tools.documents.consistency import blocks_no_action
from tools.procedures import default_policies

ACCOUNT_FIELDS = frozenset({"payment.creditor.account.iban", "payment.creditor.account.other"})


def default_four_eyes_threshold() -> Decimal:
    """``REPAIRDESK_FOUR_EYES_ABOVE`` (Settings), else the four-eyes policy's ``default_above``
    (payment currency; see docs/configuration.md)."""
    override = config.current().four_eyes_above
    return override if override is not None else default_policies().four_eyes.default_above


def four_eyes_ceiling() -> Decimal:
    """The highest threshold a proposal may claim: the policy's highest, or a higher override."""
    return max(default_policies().four_eyes.ceiling, default_four_eyes_threshold())


def is_sanctions_case(case: Mapping[str, Any], findings: Iterable[Mapping[str, Any]]) -> bool:
    """The global sanctions policy: a sanctions code, a sanctions finding, or sanctions words in the notes.

    Notes are untrusted, but a word in them can only make the agent more careful (escalate),
    never less, so reading them here is safe.
    """
    return default_policies().sanctions.applies(case, findings)


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _violation(code: str, message: str, field: str | None = None) -> Violation:
    # Only a violation about one field names one: its JSON has no `"field": null` otherwise.
    if field:
        return Violation(code=code, message=message, field=field)
    return Violation(code=code, message=message)


def _check_change(change: Change, results_by_ref: Mapping[str, Evidence]) -> list[Violation]:
    field = change.field
    new = change.new
    if not field.startswith("payment."):
        return [_violation("unknown_field", f"{field!r} is not a payment field", field)]
    if field in default_policies().money_fields.fields:
        return [_violation("amount_or_currency_change", f"{field} may never be repaired by the agent", field)]
    if new is None or new == "" or new == []:
        return [_violation("unresolved_value", f"no value could be resolved for {field}", field)]
    if change.trusted_path is False:
        return [
            _violation("untrusted_source", f"the value for {field} is not taken from a tool result", field)
        ]
    trusted = []
    for ref in change.evidence:
        entry = results_by_ref.get(ref)
        if entry is None or entry.tool not in TRUSTED_SOURCES:
            continue
        result = entry.result
        # validate_iban is trusted for the BIC it derives, not for echoing the IBAN it was given.
        candidates = [str(result.get("bic"))] if entry.tool == "validate_iban" else list(_leaves(result))
        wanted = [str(v) for v in new] if isinstance(new, list) else [str(new)]
        if wanted and all(w in candidates for w in wanted):
            trusted.append(entry)
    if not trusted:
        return [
            _violation(
                "untrusted_source",
                f"{new!r} for {field} does not appear in any cited result of a trusted tool",
                field,
            )
        ]
    if field in ACCOUNT_FIELDS:
        ssi_ok = any(
            e.tool == "get_ssi"
            and e.result.get("found")
            and (_amount(e.result.get("name_score")) or Decimal(0))
            >= Decimal(str(default_policies().ssi.min_name_score))
            and str(new) in {str(e.result.get("iban")), str(e.result.get("account"))}
            for e in trusted
        )
        if not ssi_ok:
            return [
                _violation("account_without_ssi", f"{field} may only be repaired from a matching SSI", field)
            ]
    return []


def evidence_by_ref(results_by_ref: Mapping[str, Mapping[str, Any]]) -> dict[str, Evidence]:
    """The state's ``results_by_ref`` (JSON) as the guard reads it."""
    return {str(ref): Evidence.model_validate(entry) for ref, entry in results_by_ref.items()}


def check(
    proposal: Proposal,
    *,
    case: Mapping[str, Any],
    payment: Mapping[str, Any] | None,
    findings: Iterable[Mapping[str, Any]],
    results_by_ref: Mapping[str, Evidence],
) -> list[Violation]:
    """Every violation of the guard's rules (empty when the proposal may go to review as is)."""
    violations: list[Violation] = []
    action = proposal.action
    changes = proposal.changes
    if action not in ACTIONS:
        violations.append(_violation("invalid_action", f"{action!r} is not one of {ACTIONS}"))
    if action == "repair" and not changes:
        violations.append(_violation("repair_without_changes", "a repair must change at least one field"))
    if changes and action != "repair":
        violations.append(_violation("changes_without_repair", f"a {action} proposal may not change fields"))
    for change in changes:
        violations.extend(_check_change(change, results_by_ref))
    findings = list(findings)
    if action == "no_action":
        # Attached documents that disagree with the payment: the case does not "match".
        for message in blocks_no_action(findings):
            violations.append(_violation("documents_disagree", message))
    if action != "escalate" and is_sanctions_case(case, findings):
        violations.append(_violation("sanctions_case", "a sanctions case is only ever escalated"))
    amount = _amount((payment or {}).get("amount"))
    # `propose` applied the planner's threshold; the guard holds it to the policy (issue 15: the same
    # threshold twice meant this check could never fire).
    claimed = _amount(proposal.four_eyes_above)
    threshold = min(default_four_eyes_threshold() if claimed is None else claimed, four_eyes_ceiling())
    if (
        action in ("repair", "return")
        and amount is not None
        and amount > threshold
        and not proposal.four_eyes
    ):
        violations.append(
            _violation("four_eyes_missing", f"{amount} is above the {threshold} approval threshold")
        )
    return violations


def enforce(proposal: Proposal, violations: list[Violation]) -> Proposal:
    """The proposal with its guard verdict; a violating one is downgraded to ``escalate``."""
    if not violations:
        return proposal.revised(guard=Guard(passed=True, violations=[]))
    reasons = "; ".join(v.message for v in violations)
    # A proposal `propose` already escalated keeps the planner's action as the original one.
    original = proposal.guard.original_action if proposal.guard is not None else None
    return proposal.revised(
        guard=Guard(passed=False, violations=violations, original_action=original or proposal.action),
        rejected_changes=proposal.changes,
        changes=[],
        action="escalate",
        confidence=min(proposal.confidence or 0.0, 0.5),
        rationale=f"Escalated by the guard: {reasons}. Planner said: {proposal.rationale}",
    )
