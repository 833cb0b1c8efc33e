"""Procedure parsing: front matter, numbered sections, playbook block, errors naming the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.tools.retrieval.corpus import PROCEDURES, write_corpus
from tools.errors import NotFoundError, ValidationError
from tools.retrieval.procedures import get_procedure, load_procedures, parse_procedure_text


def test_front_matter_sections_and_playbook() -> None:
    procedure = parse_procedure_text(PROCEDURES["sop-ac01.md"], source="sop-ac01.md")
    assert procedure.doc_id == "SOP-AC01"
    assert procedure.version == "3.1"
    assert procedure.effective_date == "2026-03-01"
    assert procedure.exception_codes == ["AC01", "AC03"]
    assert procedure.message_types == ["MT103", "pacs.008"]
    assert procedure.rails == ["SWIFT", "SEPA"]
    assert [s.id for s in procedure.sections] == [
        "Incorrect creditor account number",
        "1",
        "3",
        "3.1",
        "3.2",
        "4",
    ]
    step = procedure.section("3.2")
    assert step is not None
    assert step.heading == "Repair from the standing settlement instruction"
    assert step.path == [
        "Incorrect creditor account number",
        "3. Procedure",
        "3.2 Repair from the standing settlement instruction",
    ]
    # The playbook block is parsed into the typed playbook and kept out of the section text.
    assert procedure.playbook is not None
    assert procedure.playbook.steps[0].tool == "validate_iban"
    assert "playbook" not in step.text and "rules:" not in step.text
    assert "Four-eyes approval" in step.text


def test_heading_inside_code_fence_is_not_a_section() -> None:
    text = "---\ndoc_id: X\ntitle: T\n---\n## 1. A\n```\n## not a heading\n```\n## 2. B\nbody\n"
    procedure = parse_procedure_text(text, source="x.md")
    assert [s.id for s in procedure.sections] == ["1", "2"]
    assert "## not a heading" in procedure.sections[0].text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("# no front matter\n", "front matter"),
        ("---\ndoc_id: [unclosed\n---\nbody", "not valid YAML"),
        ("---\ntitle: no id\n---\nbody", "no doc_id"),
        ("---\ndoc_id: X\n---\n```playbook\na: 1\n```\n```playbook\nb: 2\n```\n", "2 playbook blocks"),
        ("---\ndoc_id: X\n---\n```playbook\n- a list\n```\n", "must be a YAML mapping"),
        ("---\ndoc_id: X\nexception_codes: {a: 1}\n---\n", "must be a list"),
    ],
)
def test_malformed_procedure_names_the_file(text: str, reason: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse_procedure_text(text, source="bad.md")
    assert error.value.source == "bad.md"
    assert reason in error.value.reason


def test_load_procedures_rejects_duplicate_doc_ids(tmp_path: Path) -> None:
    write_corpus(tmp_path, {"a.md": PROCEDURES["sop-ac04.md"], "b.md": PROCEDURES["sop-ac04.md"]})
    with pytest.raises(ValidationError, match="SOP-AC04 is also used by"):
        load_procedures(tmp_path)


def test_load_procedures_skips_readme_and_missing_folder_is_an_error(tmp_path: Path) -> None:
    write_corpus(tmp_path, {"README.md": "# not a procedure", "a.md": PROCEDURES["sop-ac04.md"]})
    assert [p.doc_id for p in load_procedures(tmp_path)] == ["SOP-AC04"]
    with pytest.raises(ValidationError, match="does not exist"):
        load_procedures(tmp_path / "missing")


def test_get_procedure_reads_the_default_corpus(tmp_path: Path, tool_config: Callable[..., Any]) -> None:
    write_corpus(tmp_path / "procedures")
    tool_config(corpora_dir=tmp_path)
    assert get_procedure("SOP-RECALL").title.startswith("Recall and cancellation")
    with pytest.raises(NotFoundError):
        get_procedure("SOP-NOPE")
    # An edited file is picked up without a restart.
    path = tmp_path / "procedures" / "sop-recall.md"
    path.write_text(PROCEDURES["sop-recall.md"].replace("version: 1.4", "version: 1.5"), encoding="utf-8")
    import os

    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert get_procedure("SOP-RECALL").version == "1.5"
