"""Collects what a FIN message yields: provenance-carrying fields and validation findings.

Everything is kept as plain dicts and tuples while a message is read; the canonical models are
built once, at the end, from dicts (one pydantic validation per message keeps parsing fast).
"""

from __future__ import annotations

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
        # Provenance objects by tag for line 1 (most values), by (tag, line) otherwise: a plain
        # dict subscript costs less than a call of a cached function.
        first, other = _LINE1_SOURCES, _SOURCES
        if not worst:  # the usual case: no finding points at a field, every value keeps 1.0
            return [
                {
                    "name": name,
                    "value": value,
                    "confidence": 1.0,
                    "source": first[tag] if line == 1 else other[tag, line],
                }
                for name, value, tag, line in self.fields
            ]
        prefixes = tuple(worst)  # a name outside these is touched by no finding
        return [
            {
                "name": name,
                "value": value,
                "confidence": _confidence(name, worst) if name.startswith(prefixes) else 1.0,
                "source": first[tag] if line == 1 else other[tag, line],
            }
            for name, value, tag, line in self.fields
        ]


def _confidence(name: str, worst: dict[str, float]) -> float:
    """The lowest confidence ``worst`` gives ``name`` or one of its dotted ancestors."""
    confidence = 1.0
    for path in _LINEAGES[name]:
        if path in worst and worst[path] < confidence:
            confidence = worst[path]
    return confidence


class _Lineages(dict[str, tuple[str, ...]]):
    """A dotted name and its ancestors (``a.b.c``, ``a.b``, ``a``), computed once per name (the
    names of a message type are few). Bounded: emptied when full."""

    def __missing__(self, name: str) -> tuple[str, ...]:
        lineage = [name]
        cut = name.rfind(".")
        while cut > 0:
            lineage.append(name[:cut])
            cut = name.rfind(".", 0, cut)
        if len(self) >= _MAX_LINEAGES:
            self.clear()
        result = self[name] = tuple(lineage)
        return result


_MAX_LINEAGES = 4096
_LINEAGES = _Lineages()


class _Sources(dict[Any, FieldSource]):
    """Shared provenance objects, one per (tag, line) (or per tag, for line 1): building a model per
    value would cost more than all the parsing. Treat them as immutable (every FIN extraction may
    hold the same one). Bounded: emptied when full; a race may build an equal object twice."""

    def __missing__(self, key: Any) -> FieldSource:
        tag, line = (key, 1) if isinstance(key, str) else key
        if len(self) >= _MAX_SOURCES:
            self.clear()
        source = self[key] = FieldSource(tag=tag, line=line)
        return source


_MAX_SOURCES = 4096
_LINE1_SOURCES = _Sources()  # by tag
_SOURCES = _Sources()  # by (tag, line)
