"""Loading a reference-data file: validate everything first, then write everything or nothing.

Problems are reported by position, e.g. ``accounts[3].iban: invalid IBAN checksum``: schema errors
from pydantic, ids repeated inside the file, and records naming a customer that is neither in the
file nor already stored. When there is any problem nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from tools.errors import ValidationError
from tools.payments.common import compact
from tools.refdata import tables
from tools.refdata.schema import RefDataFile
from tools.refdata.store import RefDataStore

MAX_FILE_BYTES = 256 * 1024 * 1024
_MAX_REPORTED = 200  # a file with thousands of bad records is reported in part


class RefDataError(ValidationError):
    """A load file that does not validate; ``problems`` lists every positional message."""

    code = "refdata_invalid"

    def __init__(self, problems: list[str], *, source: str | None = None) -> None:
        self.problems = problems
        shown = problems[:_MAX_REPORTED]
        more = f"\n... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(f"{len(problems)} invalid record(s):\n" + "\n".join(shown) + more, source=source)


@dataclass
class LoadReport:
    source: str
    counts: dict[str, int] = field(default_factory=dict)


def read_file(path: Path) -> Any:
    """The JSON document in ``path``; ``ValidationError`` when unreadable or not JSON."""
    source = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValidationError(f"cannot read file: {exc.strerror or exc}", source=source) from None
    if size > MAX_FILE_BYTES:
        raise ValidationError(f"file larger than {MAX_FILE_BYTES} bytes", source=source)
    try:
        return json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read file: {exc}", source=source) from None
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", source=source
        ) from None


def validate(document: Any, store: RefDataStore | None = None, *, source: str | None = None) -> RefDataFile:
    """The validated file, or ``RefDataError`` listing every problem by position.

    With ``store``, a ``customer_id`` may also name a customer loaded earlier.
    """
    if not isinstance(document, dict):
        raise RefDataError(["(top level): expected a JSON object with lists of records"], source=source)
    problems: list[str] = []
    data: RefDataFile | None = None
    try:
        data = RefDataFile.model_validate(document)
    except pydantic.ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
    # Checks across records run on the raw document, so one report names every problem at once.
    problems += _duplicate_ids(document) + _unknown_customers(document, store)
    if problems or data is None:
        raise RefDataError(problems, source=source)
    return data


def load(document: Any, store: RefDataStore, *, source: str = "(input)") -> LoadReport:
    """Validate ``document`` and upsert it in one transaction; nothing is written on any problem."""
    data = validate(document, store, source=source)
    return LoadReport(source=source, counts=store.upsert(data))


def load_file(path: Path, store: RefDataStore) -> LoadReport:
    return load(read_file(path), store, source=str(path))


def _describe(error: Any) -> str:
    location = ""
    for part in error["loc"]:
        location += f"[{part}]" if isinstance(part, int) else (f".{part}" if location else str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location or '(top level)'}: {message}"


def _records(document: dict[str, Any], kind: str) -> list[tuple[int, dict[str, Any]]]:
    """(position, record) for the well-formed records of one kind; the schema reports the rest."""
    records = document.get(kind)
    if not isinstance(records, list):
        return []
    return [(index, record) for index, record in enumerate(records) if isinstance(record, dict)]


def _key(field: str, value: Any) -> str | None:
    """An id as the schema will normalise it (IBANs compacted, other ids stripped)."""
    if not isinstance(value, str):
        return None
    return compact(value) if field == "iban" else value.strip()


def _duplicate_ids(document: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for kind, (_table, key) in tables.KEYS.items():
        first_seen: dict[str, int] = {}
        for index, record in _records(document, kind):
            value = _key(key, record.get(key))
            if not value:
                continue
            if value in first_seen:
                problems.append(f"{kind}[{index}].{key}: duplicate of {kind}[{first_seen[value]}] ({value})")
            else:
                first_seen[value] = index
    return problems


def _unknown_customers(document: dict[str, Any], store: RefDataStore | None) -> list[str]:
    known = {
        cid
        for _i, record in _records(document, "customers")
        if (cid := _key("customer_id", record.get("customer_id")))
    }
    referenced: list[tuple[str, int, str]] = []
    for kind in ("accounts", "ssis", "open_invoices", "payments"):
        for index, record in _records(document, kind):
            customer_id = _key("customer_id", record.get("customer_id"))
            if customer_id and customer_id not in known:
                referenced.append((kind, index, customer_id))
    if referenced and store is not None:
        known |= store.existing_customer_ids(cid for _k, _i, cid in referenced)
    return [
        f"{kind}[{index}].customer_id: unknown customer {cid}"
        for kind, index, cid in referenced
        if cid not in known
    ]
