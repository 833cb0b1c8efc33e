"""Extraction suite: field accuracy per field and per document type.

Dataset ``extraction`` rows: ``{"id", "input": "shared:<path>" | "generated:<spec>", "doc_type",
"expected": {"<dotted.path>": "<value>"}}``. A field counts as correct when the extracted value equals
the expected one after normalisation (decimals compared as numbers, text case- and space-insensitive;
names listed in a row's ``contains`` match when one contains the other after folding, as the real
set's README asks). Metrics are also split by source (the id's first part: ``real``,
``invoice2data``, ``generated``, ...): ``field_accuracy[source=real]`` and
``field[real:remittance.total_amount]``, so real and generated documents are reported apart.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from evals import datasets
from evals.base import SuiteOptions, SuiteResult
from evals.progress import track
from tools.config import shared_data_dir

_INDEX = re.compile(r"^(\w+)\[(\d+)\]$")


def resolve_path(document: dict[str, Any], dotted: str) -> Any:
    """``statement.entries[0].amount`` → value, or None when any step is missing."""
    current: Any = document
    for part in dotted.split("."):
        match = _INDEX.match(part)
        key, index = (match.group(1), int(match.group(2))) if match else (part, None)
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
        if index is not None:
            if not isinstance(current, list) or index >= len(current):
                return None
            current = current[index]
    return current


def same_value(expected: str, actual: Any) -> bool:
    if actual is None:
        return False
    text = str(actual)
    try:
        return Decimal(expected) == Decimal(text)
    except (InvalidOperation, ValueError):
        pass
    return " ".join(expected.casefold().split()) == " ".join(text.casefold().split())


def _folded(text: str) -> str:
    from tools.documents.normalize import fold

    return " ".join(re.sub(r"[^\w&]+", " ", fold(text)).split())


def same_name(expected: str, actual: Any) -> bool:
    """The expected name is contained in the extracted one after folding ("Au bon moulin" in "Au bon
    moulin SARL"): the page may add a legal form, but a fragment ("GmbH") is not the name."""
    if actual is None:
        return False
    want, got = _folded(expected), _folded(str(actual))
    return bool(got) and want in got


def compare(name: str, expected: str, actual: Any, contains: list[str]) -> bool:
    return same_name(expected, actual) if name in contains else same_value(expected, actual)


def load_input(reference: str) -> tuple[bytes, str]:
    kind, _, rest = reference.partition(":")
    if kind == "shared":
        path = shared_data_dir() / rest
        return path.read_bytes(), Path(rest).name
    if kind == "generated":
        from evals.generators.remittance import render_spec

        return render_spec(rest)
    raise ValueError(f"unknown input reference {reference!r}")


def run(options: SuiteOptions) -> SuiteResult:
    from tools.errors import RepairDeskError
    from tools.extract import extract_bytes

    rows, entry = datasets.load("extraction")
    if options.limit:
        rows = rows[: options.limit]
    results = []
    for sample in track(rows, "extraction", enabled=options.progress):
        data, source = load_input(sample["input"])
        started = time.perf_counter()
        error = None
        try:
            document = extract_bytes(data, source)[0].to_json_dict()
        except RepairDeskError as exc:
            document, error = {}, exc.reason
        latency = (time.perf_counter() - started) * 1000
        contains = sample.get("contains", [])
        fields = {
            name: compare(name, str(value), resolve_path(document, name), contains)
            for name, value in sample["expected"].items()
        }
        accuracy = sum(fields.values()) / len(fields) if fields else 0.0
        doc_type = sample["doc_type"]
        origin = sample["id"].split("/", 1)[0]
        metrics: dict[str, float] = {
            "field_accuracy": accuracy,
            f"field_accuracy[{doc_type}]": accuracy,
            f"field_accuracy[source={origin}]": accuracy,
        }
        per_field: dict[str, list[bool]] = {}
        for name, ok in fields.items():
            per_field.setdefault(re.sub(r"\[\d+\]", "[]", name), []).append(ok)
        for name, oks in per_field.items():
            metrics[f"field[{name}]"] = sum(oks) / len(oks)
            metrics[f"field[{origin}:{name}]"] = sum(oks) / len(oks)
        metrics["doc_type_correct"] = float(document.get("doc_type") == doc_type)
        results.append(
            {
                "id": sample["id"],
                "doc_type": doc_type,
                "detected": document.get("doc_type"),
                "error": error,
                "wrong_fields": [n for n, ok in fields.items() if not ok],
                "latency_ms": latency,
                "metrics": metrics,
            }
        )
    return SuiteResult("extraction", results, datasets={"extraction": entry})
