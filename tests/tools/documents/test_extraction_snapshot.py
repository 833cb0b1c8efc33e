"""Every field of every document, as read when the snapshot was written: a change to the readers
that is meant to make them faster (shared page loads, skipped table finders, cached look-ups) must
not change one value, box, confidence or finding.

Documents: the real invoices (``../shared/data/invoices/real`` and ``invoice2data``, e-invoices
and a picture to OCR among them) and 30 generated text advices (every layout and language).
A change that is meant to change the output rewrites the snapshot, and the diff is reviewed:

    python -m tests.tools.documents.test_extraction_snapshot
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.tools.documents.generator import generate
from tools.extract import extract_bytes

SNAPSHOT = Path(__file__).with_name("snapshots") / "extractions.json"


def _digest(data: bytes, name: str) -> list[dict[str, Any]]:
    """The output that counts, compactly: type, every field with its provenance, the findings."""
    out = []
    for extraction in extract_bytes(data, name):
        document = extraction.to_json_dict()
        fields = [
            [
                f["name"],
                f["value"],
                f["confidence"],
                (f.get("source") or {}).get("page"),
                (f.get("source") or {}).get("bbox"),
            ]
            for f in document.get("fields", [])
        ]
        findings = [
            [f.get("code"), f.get("severity"), f.get("field"), f.get("message")]
            for f in document.get("findings", [])
        ]
        out.append(
            {
                "doc_type": document.get("doc_type"),
                "remittance": document.get("remittance"),
                "fields": fields,
                "findings": findings,
                "raw": document.get("raw"),
            }
        )
    return out


def _documents(shared: Path) -> list[tuple[str, bytes]]:
    docs = [
        (f"{folder}/{path.name}", path.read_bytes())
        for folder in ("real", "invoice2data")
        for path in sorted((shared / "invoices" / folder).glob("*.pdf"))
    ]
    docs += [(f"generated/{doc.name}.pdf", doc.pdf) for doc in generate(30, seed=7)]
    return docs


def _read(shared: Path) -> dict[str, Any]:
    return {key: _digest(data, key.rsplit("/", 1)[1]) for key, data in _documents(shared)}


def test_extractions_match_the_snapshot(shared_data: Path) -> None:
    want = json.loads(SNAPSHOT.read_text())
    got = json.loads(json.dumps(_read(shared_data), default=str))
    assert sorted(got) == sorted(want)
    changed = [f"{key}: {line}" for key in want for line in _differences(want[key], got[key])]
    assert not changed, "\n".join(changed[:30])


def _differences(want: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    """What differs, field by field, so a failure names the value that moved."""
    if len(want) != len(got):
        return [f"{len(got)} extractions, snapshot has {len(want)}"]
    lines = []
    for old, new in zip(want, got, strict=True):
        for part in ("doc_type", "remittance", "findings", "raw"):
            if old[part] != new[part]:
                lines.append(f"{part}: snapshot {old[part]!r} now {new[part]!r}"[:400])
        old_fields = {f[0]: f for f in old["fields"]}
        new_fields = {f[0]: f for f in new["fields"]}
        for name in sorted(old_fields.keys() | new_fields.keys()):
            if old_fields.get(name) != new_fields.get(name):
                lines.append(f"{name}: snapshot {old_fields.get(name)} now {new_fields.get(name)}")
    return lines


if __name__ == "__main__":
    from tools.config import shared_data_dir

    SNAPSHOT.write_text(json.dumps(_read(shared_data_dir()), indent=0, sort_keys=True, default=str) + "\n")
    sys.stdout.write(f"wrote {SNAPSHOT}\n")
