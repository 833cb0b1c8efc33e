"""Global policies (``corpora/policies.yaml``): rules that hold for every procedure, defined once.

Procedures refer to a policy by name instead of repeating it: a playbook rule's ``four_eyes:
standard``, a condition's ``policy.ssi.min_name_score``, a decision-table row's "(policy
`sanctions`)". The agent applies :attr:`Policies.sanctions` before any procedure rule
(:meth:`Policies.rules`) and the guard enforces every policy again on the final proposal, so a
procedure cannot weaken one.

:func:`load_policies` reads and validates a file (a bad one raises
:class:`tools.errors.ValidationError` naming it); :func:`default_policies` is the product's own,
re-read when the file changes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from tools import config
from tools.errors import ValidationError
from tools.procedures.model import Citation, Rule


class _Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    summary: str


class SanctionsPolicy(_Policy):
    """A sanctions indication: only ever escalate."""

    exception_codes: frozenset[str]
    finding_marker: str
    note_pattern: str
    action: str = "escalate"
    confidence: float = 0.95
    rationale: str
    cite: Citation

    def applies(self, case: Mapping[str, Any], findings: Iterable[Mapping[str, Any]]) -> bool:
        """A sanctions code, a sanctions finding, or sanctions words in the notes."""
        if str(case.get("exception_code", "")).upper() in self.exception_codes or case.get("sanctions"):
            return True
        marker = self.finding_marker.upper()
        if any(marker in str(f.get("code", "")).upper() for f in findings):
            return True
        return bool(_compiled(self.note_pattern).search(str(case.get("notes") or "")))


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


class MoneyFieldsPolicy(_Policy):
    """Fields no proposal may change."""

    fields: frozenset[str]


class FourEyesPolicy(_Policy):
    """Amounts above which a repair or return needs two approvers."""

    default_above: Decimal
    thresholds: dict[str, Decimal] = Field(default_factory=dict)

    def threshold(self, name: str) -> Decimal:
        """The named threshold; an unknown name raises KeyError."""
        return self.thresholds[name]

    @property
    def ceiling(self) -> Decimal:
        """The highest threshold any rule may apply: a proposal claiming more is held to this one."""
        return max([self.default_above, *self.thresholds.values()])


class SsiPolicy(_Policy):
    """When a standing settlement instruction belongs to the payment's beneficiary."""

    min_name_score: float


class Policies(BaseModel):
    """All global policies of a corpus."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    sanctions: SanctionsPolicy
    money_fields: MoneyFieldsPolicy
    four_eyes: FourEyesPolicy
    ssi: SsiPolicy
    source: str = ""

    def scope(self, case: Mapping[str, Any], findings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """The ``policy`` root of a playbook's expression scope for one case."""
        return {
            "sanctions": self.sanctions.applies(case, findings),
            "ssi": {"min_name_score": self.ssi.min_name_score},
        }

    def citation(self, name: str) -> Citation | None:
        """Where policy ``name`` is stated, for a procedure that does not state it itself."""
        return self.sanctions.cite if name == "sanctions" else None

    def rules(self) -> tuple[Rule, ...]:
        """The policy rules the agent evaluates before any procedure rule."""
        return (
            Rule(
                index=-1,
                policy="sanctions",
                action=self.sanctions.action,
                when="policy.sanctions",
                rationale=" ".join(self.sanctions.rationale.split()),
                confidence=self.sanctions.confidence,
            ),
        )


def load_policies(path: Path | str) -> Policies:
    """Read and validate a policies file; ValidationError names the file and the reason."""
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(f"cannot read policies: {exc}", source=source) from exc
    if not isinstance(data, dict):
        raise ValidationError("policies must be a YAML mapping", source=source)
    try:
        policies = Policies.model_validate({**data, "source": source})
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(f"policy {where}: {first['msg']}", source=source) from exc
    try:
        re.compile(policies.sanctions.note_pattern)
    except re.error as exc:
        raise ValidationError(f"sanctions.note_pattern: {exc}", source=source) from exc
    return policies


def default_policies_path() -> Path:
    """The corpus's ``policies.yaml``; a corpus without one is held to the product's own policies, so
    a rule that holds everywhere cannot disappear with a missing file."""
    path = config.corpora_dir() / "policies.yaml"
    return path if path.is_file() else config.REPO_ROOT / "corpora" / "policies.yaml"


_lock = threading.Lock()
_cached: tuple[tuple[str, float], Policies] | None = None


def default_policies() -> Policies:
    """The product's policies (``corpora/policies.yaml``), re-read when the file changes."""
    global _cached
    path = default_policies_path()
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError as exc:
        raise ValidationError(f"cannot read policies: {exc}", source=str(path)) from exc
    with _lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, load_policies(path))
        return _cached[1]
