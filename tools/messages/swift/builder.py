"""Collects what a FIN message yields: provenance-carrying fields and validation findings.

Everything is kept as plain dicts and tuples while a message is read; the canonical models are
built once, at the end, from dicts (one pydantic validation per message keeps parsing fast).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from tools.messages.model import FieldSource

# Confidence of a value a finding touches: verbatim values that pass validation keep 1.0.
_CONFIDENCE_BY_SEVERITY = {"error": 0.5, "warning": 0.8, "info": 1.0}


class Collector:
    """Fields (name, value, tag, line) and findings of one message."""

    __slots__ = ("fields", "findings")

    def __init__(self) -> None:
        self.fields: list[tuple[str, str, str, int]] = []
        self.findings: list[dict[str, Any]] = []

    def field(self, name: str, value: str, tag: str, line: int = 1) -> None:
        """Record that ``name`` (a dotted canonical path) was read from ``tag``'s ``line``."""
        self.fields.append((name, value, tag, line))

    def finding(self, code: str, severity: str, message: str, field: str | None = None) -> None:
        item: dict[str, Any] = {"code": code, "severity": severity, "message": message}
        if field is not None:
            item["field"] = field
        self.findings.append(item)

    def field_dicts(self) -> list[dict[str, Any]]:
        """Fields as dicts, each with a confidence lowered by the worst finding on it or an ancestor.

        A finding on ``payment.creditor`` touches ``payment.creditor.name``; one on
        ``statement.entries[0].amount`` touches only that value.
        """
        worst: dict[str, float] = {}
        for f in self.findings:
            path = f.get("field")
            if path:
                conf = _CONFIDENCE_BY_SEVERITY.get(f["severity"], 1.0)
                if conf < worst.get(path, 1.0):
                    worst[path] = conf
        if not worst:  # the usual case: no finding points at a field, every value keeps 1.0
            return [
                {"name": name, "value": value, "confidence": 1.0, "source": _source(tag, line)}
                for name, value, tag, line in self.fields
            ]
        prefixes = tuple(worst)
        out: list[dict[str, Any]] = []
        for name, value, tag, line in self.fields:
            confidence = 1.0
            if name.startswith(prefixes):
                confidence = worst.get(name, 1.0)
                cut = name.rfind(".")
                while cut > 0:
                    ancestor = worst.get(name[:cut], 1.0)
                    if ancestor < confidence:
                        confidence = ancestor
                    cut = name.rfind(".", 0, cut)
            out.append({"name": name, "value": value, "confidence": confidence, "source": _source(tag, line)})
        return out


@lru_cache(maxsize=4096)
def _source(tag: str, line: int) -> FieldSource:
    """Shared provenance objects, one per (tag, line): building a model per value would cost more
    than all the parsing. Treat them as immutable (every FIN extraction may hold the same one)."""
    return FieldSource(tag=tag, line=line)
