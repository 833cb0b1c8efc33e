"""The generated reason-code corpus and lookup_reason_code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.config import corpora_dir
from tools.errors import ValidationError
from tools.retrieval.codes import lookup_reason_code
from tools.retrieval.procedures import load_procedures
from tools.retrieval.reference import generate_reference_corpus


def test_committed_reference_corpus_is_what_the_generator_writes(shared_data: Path, tmp_path: Path) -> None:
    written = generate_reference_corpus(shared_data / "codesets", tmp_path)
    committed = corpora_dir() / "reference"
    for path in written:
        assert (committed / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{path.name} is stale: run python -m tools.retrieval.reference"
        )


def test_reference_documents_have_one_section_per_code(shared_data: Path, tmp_path: Path) -> None:
    import json

    generate_reference_corpus(shared_data / "codesets", tmp_path)
    documents = {p.doc_id: p for p in load_procedures(tmp_path)}
    source = json.loads((shared_data / "codesets" / "external_return_reason_code.json").read_text())
    returns = documents["CODESET-return"]
    assert returns.kind == "reference"
    assert {s.id for s in returns.sections if s.level == 2} == set(source["codes"])
    ac04 = returns.section("AC04")
    assert ac04 is not None and source["codes"]["AC04"] in ac04.text
    assert set(documents) >= {
        "CODESET-status",
        "CODESET-return",
        "CODESET-cancellation",
        "CODESET-investigation",
        "CODESET-internal",
    }


def test_lookup_reason_code_in_several_sets() -> None:
    result = lookup_reason_code(" ac04 ")
    assert result["found"] is True
    assert result["code"] == "AC04"
    assert result["codeset"] == "status"
    assert result["ref"] == "code:status:AC04"
    assert "closed" in result["definition"]
    assert result["name"] and len(result["name"]) <= 83
    assert {e["codeset"] for e in result["codesets"]} >= {"status", "return"}


def test_lookup_reason_code_internal_unknown_and_invalid() -> None:
    assert lookup_reason_code("UNAPPLIED_CASH")["name"] == "Unapplied cash"
    assert lookup_reason_code("CUST")["codeset"] in {"status", "return", "cancellation"}
    assert lookup_reason_code("ZZ99") == {"found": False, "code": "ZZ99"}
    with pytest.raises(ValidationError):
        lookup_reason_code("")
    with pytest.raises(ValidationError):
        lookup_reason_code("AC04; DROP TABLE")
