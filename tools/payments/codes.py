"""Reason-code look-up for the ``lookup_reason_code`` tool.

Delegates to :func:`tools.retrieval.codes.lookup_reason_code` (the reference table generated from
the ISO 20022 external code sets plus our own codes). When that table cannot be read, the code sets
under the shared data folder (``codesets/*.json``) answer instead, with the same result shape:
``found``, ``code``, ``name``, ``definition``, ``codeset``, ``codesets``, ``ref`` =
``code:<codeset>:<code>``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from tools import config
from tools.errors import ValidationError
from tools.retrieval import codes as retrieval_codes

# Shared code-set files in the order the retrieval table uses (first one answers).
_FALLBACK_ORDER = (
    ("status", "external_status_reason_code.json"),
    ("return", "external_return_reason_code.json"),
    ("cancellation", "external_cancellation_reason_code.json"),
    ("investigation", "external_investigation_reason_code.json"),
    ("cancellation-rejection", "external_payment_cancellation_rejection_code.json"),
)


def lookup_reason_code(code: str) -> dict[str, Any]:
    """Name and definition of an ISO 20022 reason code or one of our own (see module docstring)."""
    try:
        return retrieval_codes.lookup_reason_code(code)
    except ValidationError as exc:
        if "table unreadable" not in exc.reason:
            raise
    return _fallback_lookup(code)


def _fallback_lookup(code: Any) -> dict[str, Any]:
    normalised = retrieval_codes.normalise_code(code)
    entries = [
        {"codeset": codeset, "name": normalised, "definition": table[normalised]}
        for codeset, table in _shared_codesets()
        if normalised in table
    ]
    return retrieval_codes.answer(normalised, entries)


@lru_cache(maxsize=1)
def _shared_codesets() -> tuple[tuple[str, dict[str, str]], ...]:
    folder = config.shared_data_dir() / "codesets"
    tables: list[tuple[str, dict[str, str]]] = []
    for codeset, name in _FALLBACK_ORDER:
        try:
            tables.append((codeset, json.loads((folder / name).read_text(encoding="utf-8"))["codes"]))
        except (OSError, ValueError, KeyError):
            continue  # a missing code set only narrows the answer
    return tuple(tables)
