"""Generate the reason-code reference corpus (``corpora/reference/``) from ISO 20022 external code sets.

Layout (documented in docs/retrieval.md): one Markdown file per code set, ``codeset-<key>.md`` with
``doc_id: CODESET-<key>`` and ``kind: reference``, one ``## <CODE>`` section per code (so a hit's
``section`` is the code itself), plus ``reason_codes.json``, the same data for
:func:`tools.retrieval.codes.lookup_reason_code`. The product's own exception codes
(``REMITTANCE_MISMATCH``...) form the ``internal`` code set.

ISO publishes a name (``ClosedAccountNumber``) and a definition for each code; the JSON files we
ship carry the definition only, so the name is the definition's first sentence, shortened.

Run ``python -m tools.retrieval.reference [CODESETS_DIR] [OUT_DIR]`` to regenerate.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from tools import config
from tools.errors import ValidationError

# Key, source file, title. Order is the look-up priority when a code sits in several sets.
CODESETS: tuple[tuple[str, str, str], ...] = (
    ("status", "external_status_reason_code.json", "Payment status reason codes (pacs.002)"),
    ("return", "external_return_reason_code.json", "Payment return reason codes (pacs.004, camt.053)"),
    ("cancellation", "external_cancellation_reason_code.json", "Cancellation reason codes (camt.056, MT192)"),
    (
        "investigation",
        "external_investigation_reason_code.json",
        "Investigation reason codes (camt.110, camt.027, MT199)",
    ),
    (
        "cancellation-rejection",
        "external_payment_cancellation_rejection_code.json",
        "Cancellation rejection reason codes (camt.029)",
    ),
)

# RepairDesk's own exception codes (CONTRACT.md), defined here because no ISO set has them.
INTERNAL_NAMES: dict[str, str] = {
    "REMITTANCE_MISMATCH": "Remittance mismatch",
    "UNAPPLIED_CASH": "Unapplied cash",
    "INVESTIGATION_QUERY": "Investigation query",
    "RECALL_REQUEST": "Recall request",
    "UNKNOWN": "Unknown exception",
}
INTERNAL_CODES: dict[str, str] = {
    "REMITTANCE_MISMATCH": "Remittance information does not match the open items (invoice numbers, amounts "
    "or payer) expected for the payment.",
    "UNAPPLIED_CASH": "A received payment could not be applied to any open invoice and sits on a suspense "
    "or unapplied-cash account.",
    "INVESTIGATION_QUERY": "A query or investigation about a payment was received from another bank or a "
    "customer (MT199/MT299, camt.026/027/029).",
    "RECALL_REQUEST": "A request to recall or cancel a payment already sent (MT192, camt.056).",
    "UNKNOWN": "The exception carries no code or a code we do not recognise; classify it from the message "
    "and notes.",
}

JSON_NAME = "reason_codes.json"


def doc_id_for(codeset: str) -> str:
    return f"CODESET-{codeset}"


def short_name(definition: str, code: str = "") -> str:
    """A short name from an ISO definition: first sentence, without '(formerly ...)', <= 80 chars."""
    if code in INTERNAL_NAMES:
        return INTERNAL_NAMES[code]
    text = re.sub(r"\s*\(formerly[^)]*\)", "", definition).strip()
    first = re.split(r"(?<=[a-z0-9)])\.\s", text, maxsplit=1)[0].rstrip(". ")
    if len(first) <= 80:
        return first
    return first[:80].rsplit(" ", 1)[0].rstrip(",;:") + "..."


def read_codesets(codesets_dir: Path) -> dict[str, dict[str, Any]]:
    """``{key: {"name", "description", "title", "codes": {code: definition}}}`` from the JSON files."""
    result: dict[str, dict[str, Any]] = {}
    for key, filename, title in CODESETS:
        path = codesets_dir / filename
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValidationError(f"cannot read code set: {exc}", source=str(path)) from exc
        codes = data.get("codes")
        if not isinstance(codes, dict):
            raise ValidationError("code set has no 'codes' mapping", source=str(path))
        result[key] = {
            "name": data.get("name", key),
            "description": data.get("description", ""),
            "title": title,
            "codes": {str(c).strip(): " ".join(str(d).split()) for c, d in sorted(codes.items())},
        }
    result["internal"] = {
        "name": "RepairDeskExceptionCode",
        "description": "RepairDesk's own exception codes for cases that carry no ISO reason code.",
        "title": "RepairDesk internal exception codes",
        "codes": dict(INTERNAL_CODES),
    }
    return result


def render_codeset(key: str, codeset: dict[str, Any]) -> str:
    """The Markdown document of one code set."""
    lines = [
        "---",
        f"doc_id: {doc_id_for(key)}",
        f"title: {json.dumps(codeset['title'])}",
        "version: generated",
        "kind: reference",
        f"codeset: {codeset['name']}",
        f"description: {json.dumps(codeset['description'])}",
        "owner: generated from ISO 20022 external code sets by tools/retrieval/reference.py; do not edit",
        "---",
        # No text under the title: every chunk of a code-set document is one code's definition.
        f"# {codeset['title']}",
        "",
    ]
    label = "RepairDesk exception code" if key == "internal" else f"{key.replace('-', ' ')} reason code"
    for code, definition in codeset["codes"].items():
        lines += [
            f"## {code}",
            "",
            f"{code} ({label}): {definition}",
            "",
        ]
    return "\n".join(lines)


def generate_reference_corpus(codesets_dir: Path, out_dir: Path) -> list[Path]:
    """Write one Markdown file per code set and ``reason_codes.json`` into ``out_dir``."""
    codesets = read_codesets(codesets_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    table: dict[str, Any] = {"codesets": {}, "codes": {}}
    for key, codeset in codesets.items():
        path = out_dir / f"codeset-{key}.md"
        path.write_text(render_codeset(key, codeset), encoding="utf-8")
        written.append(path)
        table["codesets"][key] = {
            "name": codeset["name"],
            "title": codeset["title"],
            "doc_id": doc_id_for(key),
        }
        for code, definition in codeset["codes"].items():
            table["codes"].setdefault(code, []).append(
                {"codeset": key, "name": short_name(definition, code), "definition": definition}
            )
    json_path = out_dir / JSON_NAME
    json_path.write_text(json.dumps(table, indent=1, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
    written.append(json_path)
    return written


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else config.shared_data_dir() / "codesets"
    target = Path(argv[1]) if len(argv) > 1 else config.corpora_dir() / "reference"
    try:
        written = generate_reference_corpus(source, target)
    except ValidationError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stderr.write(f"wrote {len(written)} files to {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
